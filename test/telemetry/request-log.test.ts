import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { createLogger, loggerFor } from "../../src/telemetry/logger.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

const UPSTREAM_KEY = "sk-upstream-secret-0123456789";
const GATEWAY_KEY = "gw-client-key-abcdefghijkl";

/** Collects what a logger writes, one parsed object per line. */
function capture() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (s: string) => void lines.push(...s.split("\n").filter((l) => l !== "")) },
    json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let good: MockUpstream;
let bad: MockUpstream;
let gw: TestGateway;
const out = capture();

before(async () => {
  good = await startMockUpstream();
  bad = await startMockUpstream({ fault: "status=503" });
  const raw = {
    server: { auth: { keys: [{ name: "app", key: GATEWAY_KEY }] } },
    providers: {
      good: { type: "openai", base_url: good.url, api_key: UPSTREAM_KEY },
      bad: { type: "openai", base_url: bad.url, breaker: false },
    },
    models: { chat: { targets: ["good/gpt-4o-mini"] }, broken: { targets: ["bad/x"], retry: { attempts: 2, base_delay: "1ms", max_delay: "1ms" } } },
  };
  const logger = loggerFor(resolveConfig(raw, { env: {}, source: "test" }), out.stream);
  gw = await startGateway(raw, { logger }, logger);
});
after(async () => {
  await gw.close();
  await good.close();
  await bad.close();
});

const auth = { authorization: `Bearer ${GATEWAY_KEY}` };
const requestLines = () => out.json().filter((l) => l.reqId !== undefined);

describe("the request log", () => {
  test("one info line per request with id, model, target, attempts, status, latency and tokens", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"), { ...auth, "x-request-id": "req-whole-1" });
    assert.equal(res.status, 200);
    const line = requestLines().find((l) => l.reqId === "req-whole-1");
    assert.ok(line, "a line for the request");
    assert.equal(line.level, 30);
    assert.equal(line.msg, "request");
    assert.equal(line.model, "chat");
    assert.equal(line.target, "good/gpt-4o-mini");
    assert.equal(line.status, 200);
    assert.equal(line.attempts, 1);
    assert.equal(line.stream, false);
    assert.equal(line.op, "chat");
    assert.equal(typeof line.latency_ms, "number");
    assert.ok((line.tokens_in as number) > 0);
    assert.ok((line.tokens_out as number) > 0);
    assert.equal(line.ttft_ms, undefined, "whole answers have no time to first token");
    assert.ok(!("cache" in line), "no cache field until a cache exists");
  });

  test("a stream's line has its time to first token, written when the stream ends", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat", { stream: true, stream_options: { include_usage: true } }), { ...auth, "x-request-id": "req-stream-1" });
    assert.equal(res.status, 200);
    assert.match(res.text, /\[DONE\]/);
    const line = requestLines().find((l) => l.reqId === "req-stream-1");
    assert.ok(line);
    assert.equal(line.stream, true);
    assert.equal(typeof line.ttft_ms, "number");
    assert.ok((line.ttft_ms as number) <= (line.latency_ms as number));
    assert.ok((line.tokens_out as number) > 0);
  });

  test("a failure is a warn line with its code, attempts and message", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("broken"), { ...auth, "x-request-id": "req-fail-1" });
    assert.equal(res.status, 503);
    const line = requestLines().find((l) => l.reqId === "req-fail-1");
    assert.ok(line);
    assert.equal(line.level, 40);
    assert.equal(line.code, "SY_ERR_UPSTREAM_STATUS");
    assert.equal(line.attempts, 2);
    assert.equal(line.target, "bad/x");
    assert.equal(line.status, 503);
    assert.equal(typeof line.msg, "string");
  });

  test("requests the engine never took (a wrong key, an unknown model, bad JSON) get one line each too", async () => {
    const cases: Array<[string, Record<string, string>, string, number, string, number]> = [
      ["req-rejected-key", { authorization: "Bearer not-the-key-0123456789" }, JSON.stringify(chat("chat")), 401, "SY_ERR_UNAUTHORIZED", 30],
      ["req-rejected-model", auth, JSON.stringify(chat("no-such-model")), 404, "SY_ERR_MODEL_NOT_FOUND", 30],
      ["req-rejected-json", auth, "{not json", 400, "SY_ERR_INVALID_JSON", 30],
    ];
    for (const [id, headers, body, status, code, level] of cases) {
      const res = await fetch(`${gw.url}/v1/chat/completions?secret=q`, { method: "POST", headers: { ...headers, "content-type": "application/json", "x-request-id": id }, body });
      await res.text();
      assert.equal(res.status, status, id);
      const lines = requestLines().filter((l) => l.reqId === id);
      assert.equal(lines.length, 1, `${id}: exactly one line`);
      assert.equal(lines[0].status, status);
      assert.equal(lines[0].code, code);
      assert.equal(lines[0].level, level, "the client's mistakes are info, not warn");
      assert.equal(lines[0].path, "/v1/chat/completions", "the path without its query");
    }
    // A failure the engine published is not logged a second time by the front.
    assert.equal(requestLines().filter((l) => l.reqId === "req-fail-1").length, 1);
  });

  test("no key of a provider or a client appears in any line", async () => {
    assert.ok(out.lines.length >= 3);
    for (const l of out.lines) {
      assert.ok(!l.includes(UPSTREAM_KEY), l);
      assert.ok(!l.includes(GATEWAY_KEY), l);
    }
  });
});

describe("redaction", () => {
  test("credentials are replaced by field name, verbatim anywhere in a line, by shape, and as bearer tokens", () => {
    const c = capture();
    const log = createLogger("info", { secrets: ["configured-secret-value"], destination: c.stream });
    log.info({ authorization: "Bearer abc", headers: { "x-api-key": "k1", authorization: "Basic xyz" }, provider: { apiKey: "k2", api_key: "k3" } }, "fields");
    log.warn({ err: { message: "upstream said: bad key configured-secret-value" } }, "verbatim");
    log.warn({ detail: "echoed sk-proj-abcdefghijklmnop back" }, "shape");
    log.error({ note: "sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload" }, "token");
    const [fields, verbatim, shape, token] = c.json();
    assert.equal(fields.authorization, "[redacted]");
    assert.deepEqual(fields.headers, { "x-api-key": "[redacted]", authorization: "[redacted]" });
    assert.deepEqual(fields.provider, { apiKey: "[redacted]", api_key: "[redacted]" });
    assert.equal((verbatim.err as { message: string }).message, "upstream said: bad key [redacted]");
    assert.equal(shape.detail, "echoed [redacted] back");
    assert.equal(token.note, "sent Authorization: Bearer [redacted]");
  });

  test("the pretty format writes one readable line per entry, redacted alike", async () => {
    let text = "";
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const sink = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        wrote();
        done();
      },
    });
    const log = createLogger("info", { format: "pretty", secrets: ["configured-secret-value"], destination: sink });
    log.info({ reqId: "r1", model: "chat", status: 200, note: "configured-secret-value" }, "request");
    await written;
    assert.match(text, /INFO/);
    assert.match(text, /request/);
    assert.match(text, /reqId"?: ?"r1"/);
    assert.equal(text.trimEnd().split("\n").length, 1, "one line");
    assert.ok(!text.includes("configured-secret-value"));
    assert.ok(!text.startsWith("{"), "not JSON");
  });
});
