/**
 * The provider key must never leak: not in error bodies, not on the health
 * page, not in logs, even when the upstream echoes it back in its own errors.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import type { Logger } from "../../src/telemetry/log.ts";
import { runCli, startCli } from "../cli/util.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { openaiError } from "./util.ts";

const WRONG_KEY = "sk-wrong-secret-0123456789";
/** Not shaped like any known key, so only the configured-key redaction can catch it. */
const ODD_KEY = "plainSecretValue0123456789";
const KEYS = [WRONG_KEY, ODD_KEY];

type Mode = "401" | "500" | "stream-error" | "stream-server-error";

/**
 * An upstream that rejects every call, quoting the key it was sent, the way
 * real providers do ("Incorrect API key provided: sk-...").
 */
class LeakyUpstream {
  mode: Mode = "401";
  hits = 0;
  readonly server: Server;
  url = "";

  constructor() {
    this.server = createServer((req, res) => this.#answer(req, res));
  }

  async listen(): Promise<this> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    req.on("end", () => {
      this.hits++;
      // Azure-style providers authenticate with an `api-key` header instead of a bearer token.
      const key = String(req.headers["api-key"] ?? req.headers.authorization ?? "").replace(/^Bearer /, "");
      const message = `Incorrect API key provided: ${key}. You can find your API key at https://example.invalid.`;
      const error = JSON.stringify({ error: { message, type: "invalid_request_error", code: "invalid_api_key", param: null } });
      if (this.mode === "stream-error" && req.method === "POST") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`data: ${error}\n\n`);
        return;
      }
      if (this.mode === "stream-server-error" && req.method === "POST") {
        const failure = JSON.stringify({ error: { message: `The server had an error (key ${key}).`, type: "server_error", code: "server_error", param: null } });
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`data: ${failure}\n\n`);
        return;
      }
      const status = req.method === "GET" || this.mode === "401" ? 401 : 500;
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(error) });
      res.end(error);
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A logger that keeps every call's arguments. */
function recordingLogger(): Logger & { calls: unknown[][]; text(): string } {
  const calls: unknown[][] = [];
  const rec =
    (level: string) =>
    (...args: unknown[]) => {
      calls.push([level, ...args]);
    };
  return {
    calls,
    debug: rec("debug"),
    info: rec("info"),
    warn: rec("warn"),
    error: rec("error"),
    text: () =>
      JSON.stringify(calls, (_k, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message, stack: v.stack, cause: String(v.cause) } : v,
      ),
  };
}

function assertNoKey(text: string, where: string): void {
  for (const key of KEYS) assert.ok(!text.includes(key), `${where} leaks ${key}: ${text}`);
}

const config = (url: string) => ({
  providers: {
    wrong: { type: "openai", base_url: url, api_key: WRONG_KEY },
    odd: { type: "openai", base_url: url, api_key: ODD_KEY },
  },
  models: {
    chat: { targets: [{ provider: "wrong", model: "gpt-4o-mini" }], retry: { attempts: 2, base_delay: "1ms", max_delay: "1ms" } },
    odd: { targets: [{ provider: "odd", model: "gpt-4o-mini" }], retry: { attempts: 2, base_delay: "1ms", max_delay: "1ms" } },
  },
});

describe("in-process gateway", () => {
  let upstream: LeakyUpstream;
  let gw: TestGateway;
  const log = recordingLogger();

  before(async () => {
    upstream = await new LeakyUpstream().listen();
    gw = await startGateway(config(upstream.url), { logger: log }, log);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.mode = "401";
    upstream.hits = 0;
  });

  for (const [model, provider] of [["chat", "wrong"], ["odd", "odd"]]) {
    test(`a 401 that quotes the key is the provider's fault: a 502 naming the provider, the key redacted (${model})`, async () => {
      const res = await post(`${gw.url}/v1/chat/completions`, chat(model));
      assert.equal(upstream.hits, 2, "a refused key is retried like a failing upstream, within retry.attempts");
      assert.equal(res.status, 502);
      assertNoKey(res.text, "error body");
      const error = openaiError(res.text);
      assert.equal(error.code, "SY_ERR_UPSTREAM_AUTH");
      assert.equal(error.type, "upstream_error");
      assert.match(error.message, new RegExp(`^provider "${provider}": key refused \\(401 invalid_api_key\\): Incorrect API key provided: \\[redacted\\]`));
      const attempts = error.attempts as Array<{ message: string; status: number }>;
      assert.equal(attempts.length, 2);
      for (const a of attempts) assert.equal(a.status, 502);
    });
  }

  test("a retried 500 that quotes the key: neither the message nor the attempts leak it", async () => {
    upstream.mode = "500";
    const res = await post(`${gw.url}/v1/chat/completions`, chat("odd"));
    assert.equal(upstream.hits, 2);
    assert.equal(res.status, 500);
    assertNoKey(res.text, "error body");
    const error = openaiError(res.text);
    const attempts = error.attempts as Array<{ message: string }>;
    assert.equal(attempts.length, 2);
    for (const a of attempts) assert.match(a.message, /\[redacted\]/);
  });

  test("a stream whose first event is an invalid_api_key error quoting the key: the same as a 401", async () => {
    upstream.mode = "stream-error";
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat", { stream: true }));
    assert.equal(upstream.hits, 2, "retried like a failing upstream");
    assert.equal(res.status, 502);
    assertNoKey(res.text, "stream error body");
    const error = openaiError(res.text);
    assert.match(error.message, /^provider "wrong": key refused \(401 invalid_api_key\): Incorrect API key provided: \[redacted\]/);
    assert.equal(error.code, "SY_ERR_UPSTREAM_AUTH");
  });

  test("a stream whose first event is a server_error quoting the key: retried, and the key redacted", async () => {
    upstream.mode = "stream-server-error";
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat", { stream: true }));
    assert.equal(upstream.hits, 2, "a server error is retried");
    assert.equal(res.status, 500);
    assertNoKey(res.text, "stream error body");
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_UPSTREAM_STATUS");
    assert.match(error.message, /\[redacted\]/);
  });

  test("the SDK's error shows no key, and is no AuthenticationError: the client's own key was fine", async () => {
    const err = await gw.client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }).then(
      () => assert.fail("expected a 502"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.InternalServerError, String(err));
    assert.equal(err.status, 502);
    assertNoKey(err.message, "SDK error message");
    assertNoKey(JSON.stringify(err.error), "SDK error body");
  });

  test("/health/upstream reports the 401 without the key", async () => {
    const res = await fetch(`${gw.url}/health/upstream`);
    const text = await res.text();
    assertNoKey(text, "/health/upstream");
    const body = JSON.parse(text) as { providers: Record<string, { status?: number; last_error?: string }> };
    for (const name of ["wrong", "odd"]) {
      assert.equal(body.providers[name].status, 401);
      assert.match(String(body.providers[name].last_error), /Incorrect API key provided: \[redacted\]/);
    }
  });

  test("nothing logged holds the key", () => {
    assert.ok(log.calls.some(([level]) => level === "warn"), "the failures above were logged");
    assertNoKey(log.text(), "logs");
  });
});

describe("a key configured as a provider header (api-key: ...)", () => {
  const HEADER_KEY = "azureHeaderSecret0123456789";
  let upstream: LeakyUpstream;
  let gw: TestGateway;
  const log = recordingLogger();

  before(async () => {
    upstream = await new LeakyUpstream().listen();
    gw = await startGateway(
      {
        providers: { azure: { type: "openai", base_url: upstream.url, headers: { "api-key": HEADER_KEY } } },
        models: { chat: { targets: ["azure/gpt-4o-mini"] } },
      },
      { logger: log },
      log,
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test(
    "is redacted from error bodies, /health/upstream and logs like api_key is",
    {},
    async () => {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
      assert.equal(res.status, 502);
      assert.equal(openaiError(res.text).code, "SY_ERR_UPSTREAM_AUTH");
      assert.equal(upstream.hits, 3, "every attempt of the default retry policy was refused");
      const health = await (await fetch(`${gw.url}/health/upstream`)).text();
      assert.ok(log.calls.length > 0);
      for (const [where, text] of [["error body", res.text], ["/health/upstream", health], ["logs", log.text()]]) {
        assert.ok(!text.includes(HEADER_KEY), `${where} leaks the api-key header value: ${text}`);
      }
    },
  );
});

describe("the real pino logger (CLI serve, debug level)", () => {
  let upstream: LeakyUpstream;
  let dir: string;

  before(async () => {
    upstream = await new LeakyUpstream().listen();
    dir = await mkdtemp(join(tmpdir(), "switchyard-secrets-"));
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("stdout and stderr never show the key", async (t) => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, JSON.stringify(config(upstream.url)));
    const cli = startCli(["serve", "--config", file, "--port", "0", "--log-level", "debug"]);
    t.after(() => cli.stop());
    const [, url] = await cli.waitFor(/switchyard listening on (http:\/\/[^"\s]+)/);

    upstream.mode = "500";
    const failed = await post(`${url}/v1/chat/completions`, chat("odd"));
    assert.equal(failed.status, 500);
    assertNoKey(failed.text, "error body");
    upstream.mode = "401";
    const denied = await post(`${url}/v1/chat/completions`, chat("chat", { stream: true }));
    assert.equal(denied.status, 502);
    const health = await fetch(`${url}/health/upstream`);
    assertNoKey(await health.text(), "/health/upstream");

    assert.equal(await cli.stop(), 0);
    const out = cli.stdout();
    assert.match(out, /"level":40/, "the failures were logged at warn");
    assert.match(out, /Incorrect API key provided: \[redacted\]/);
    assertNoKey(out, "stdout");
    assertNoKey(cli.stderr(), "stderr");
  });

  test("switchyard check shows the upstream's complaint without the key", async () => {
    const file = join(dir, "check.yaml");
    await writeFile(file, JSON.stringify(config(upstream.url)));
    const r = await runCli(["check", "--config", file]);
    assert.equal(r.code, 1, "check exits 1 when a provider refuses its key");
    assert.match(r.stdout, /^wrong\s+openai\s+AUTH FAILED\s+401\s/m);
    assert.match(r.stdout, /Incorrect API key provided: \[redacted\]/);
    assertNoKey(r.stdout, "check stdout");
    assertNoKey(r.stderr, "check stderr");
  });
});
