/**
 * A seeded, bounded fuzz run against the gateway as it runs (its own process,
 * as users start it), with a healthy, a leaky and a dead upstream behind it.
 * Every class of hostile input found so far is generated: bad model names,
 * wrong types, deep nesting, missing or wrong keys, wrong content types,
 * malformed HTTP, bodies cut off, clients that leave mid-stream. It asserts
 * that the process stays up, that every answer is JSON in OpenAI's shape
 * (or a stream) with a 4xx where the client erred, that no piece of a
 * provider key ever comes back, and that in-flight counts return to zero.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cli, startCli } from "../cli/util.ts";
import { HostileUpstream } from "../helpers/hostile-upstream.ts";
import { closedPort } from "./util.ts";

const SEED = 0x5eed;
const REQUESTS = 2000;
const CONCURRENCY = 16;
const GATEWAY_KEY = "sy-fuzz-gateway-key-0123456789";
const CANARY = "tok-CANARY-zq8x7w6v5u4t3s2r1";
const PIECES = Array.from({ length: CANARY.length - 7 }, (_, i) => CANARY.slice(i, i + 8));

/** mulberry32: small, fast and reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let upstream: HostileUpstream;
let gateway: Cli;
let url = "";
let dir = "";

before(async () => {
  upstream = await new HostileUpstream().listen();
  const dead = await closedPort();
  dir = await mkdtemp(join(tmpdir(), "switchyard-fuzz-"));
  const config = join(dir, "switchyard.yaml");
  await writeFile(
    config,
    [
      "server:",
      "  timeouts: { headers: 2s, body: 2s }",
      `  auth: { keys: [ ${GATEWAY_KEY} ] }`,
      // Hostile answers must keep coming for the leak checks: a breaker would eject the hostile upstream.
      "defaults: { breaker: false }",
      "providers:",
      `  hostile: { type: openai, base_url: "${upstream.url}", api_key: ${CANARY} }`,
      `  dead: { type: openai, base_url: "http://127.0.0.1:${dead}/v1", api_key: ${CANARY} }`,
      "  demo: { type: demo }",
      "models:",
      "  chat:",
      "    targets: [ dead/x, hostile/ok ]",
      "    retry: { attempts: 3, base_delay: 1ms, max_delay: 2ms }",
      "  leaky: { targets: [ hostile/echo-fields-500 ], retry: { attempts: 2, base_delay: 1ms, max_delay: 1ms } }",
      "  demo: { targets: [ demo/demo-1 ] }",
      "",
    ].join("\n"),
  );
  gateway = startCli(["serve", "--config", config, "--port", "0"], { cwd: dir });
  url = (await gateway.waitFor(/listening on (http:\/\/[\d.:]+)/))[1];
});

after(async () => {
  await gateway?.stop();
  await upstream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Case {
  what: string;
  send(): Promise<{ status: number; type: string; text: string } | undefined>;
  /** The statuses this case may answer with. */
  ok(status: number): boolean;
}

const is4xx = (s: number) => s >= 400 && s < 500;
const MODELS_BAD = ["dead/x\u00e9\n", "x\r\ny", "a\u0000b", "m".repeat(300), "", "sp ace", "\u2603", "hostile/" + "q".repeat(900)];
const MODELS_OK = ["chat", "demo", "leaky", "hostile/ok", "hostile/echo-fields", "hostile/html-split", "hostile/stream-error-key", "dead/x"];

function makeCases(rand: () => number): Case[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const auth = { authorization: `Bearer ${GATEWAY_KEY}` };
  const post = (path: string, body: string, headers: Record<string, string>, abortAfterFirstChunk = false) => async () => {
    const ac = new AbortController();
    const res = await fetch(`${url}${path}`, { method: "POST", body, headers, signal: ac.signal });
    const type = res.headers.get("content-type") ?? "";
    if (abortAfterFirstChunk && type.startsWith("text/event-stream")) {
      const reader = res.body!.getReader();
      const first = await reader.read();
      ac.abort();
      return { status: res.status, type, text: new TextDecoder().decode(first.value ?? new Uint8Array()) };
    }
    return { status: res.status, type, text: await res.text() };
  };
  const raw = (bytes: string) => async () => {
    const { hostname, port } = new URL(url);
    const text = await new Promise<string>((resolve) => {
      const s = connect(Number(port), hostname);
      let got = "";
      s.on("data", (c: Buffer) => (got += c.toString("latin1")));
      s.on("error", () => {});
      s.on("close", () => resolve(got));
      s.on("connect", () => s.end(bytes));
    });
    if (text === "") return undefined;
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    const head = text.slice(0, text.indexOf("\r\n\r\n"));
    return { status: m ? Number(m[1]) : 0, type: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? "", text: text.slice(head.length + 4) };
  };
  const chatBody = (model: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra });

  const generators: Array<() => Case> = [
    () => {
      const model = pick(MODELS_BAD);
      return { what: `bad model ${JSON.stringify(model.slice(0, 20))}`, send: post("/v1/chat/completions", chatBody(model, { stream: rand() < 0.5 }), { "content-type": "application/json", ...auth }), ok: (s) => s === 400 };
    },
    () => {
      const model = pick(MODELS_OK);
      const stream = rand() < 0.5;
      return { what: `model ${model}${stream ? " streamed" : ""}`, send: post("/v1/chat/completions", chatBody(model, { stream }), { "content-type": "application/json", ...auth }, rand() < 0.3), ok: (s) => s === 200 || s === 400 || s === 500 || s === 502 };
    },
    () => {
      const depth = 65 + Math.floor(rand() * 5000);
      const body = `{"model":"chat","messages":[{"role":"user","content":${"[".repeat(depth)}1${"]".repeat(depth)}}]}`;
      return { what: `nesting ${depth}`, send: post("/v1/chat/completions", body, { "content-type": "application/json", ...auth }), ok: (s) => s === 400 };
    },
    () => {
      const field = pick(["messages", "stream", "max_tokens", "temperature", "n", "model"]);
      const value = pick([null, 1e308, -1, "x", [], {}, true, [null], "\u0000"]);
      return { what: `${field}=${JSON.stringify(value)}`, send: post("/v1/chat/completions", JSON.stringify({ model: "demo", messages: [{ role: "user", content: "x" }], [field]: value }), { "content-type": "application/json", ...auth }), ok: (s) => s === 200 || s === 400 || s === 404 };
    },
    () => {
      const body = pick(["", "{", "[]", "null", '"x"', "\u00ff\u00fe", "{\"model\":\"demo\",\"messages\":[}"]);
      return { what: `body ${JSON.stringify(body)}`, send: post(pick(["/v1/chat/completions", "/v1/embeddings", "/v1/completions"]), body, { "content-type": "application/json", ...auth }), ok: (s) => s === 400 };
    },
    () => {
      const headers = pick<Record<string, string>>([{}, { authorization: "Bearer wrong-key-wrong-key" }, { "x-api-key": "nope" }, { authorization: "Basic Zm9vOmJhcg==" }]);
      return { what: `key ${JSON.stringify(headers)}`, send: post("/v1/chat/completions", chatBody("demo"), { "content-type": "application/json", ...headers }), ok: (s) => s === 401 };
    },
    () => {
      const type = pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=z", "application/jsonx"]);
      return { what: `content-type ${type}`, send: post("/v1/chat/completions", chatBody("demo"), { "content-type": type, ...auth }), ok: (s) => s === 415 };
    },
    () => {
      const h = new URL(url).host;
      const bytes = pick([
        `GET /health HTTP/1.2\r\nhost: ${h}\r\n\r\n`,
        `BREW /v1/models HTTP/1.1\r\nhost: ${h}\r\n\r\n`,
        `GET /health HTTP/1.1\r\nhost: ${h}\r\nx-request-id: a\nb\r\n\r\n`,
        `GET /health HTTP/1.1\r\nhost: ${h}\r\nx-big: ${"a".repeat(17_000 + Math.floor(rand() * 10_000))}\r\n\r\n`,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${h}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${h}\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
        `\u0000\u0001\u00ff garbage \r\n\r\n`,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${h}\r\nauthorization: Bearer ${GATEWAY_KEY}\r\ncontent-type: application/json\r\ncontent-length: 900\r\n\r\n{"model":`,
      ]);
      return { what: `raw ${JSON.stringify(bytes.slice(0, 40))}`, send: raw(bytes), ok: is4xx };
    },
  ];
  return Array.from({ length: REQUESTS }, () => pick(generators)());
}

test(`${REQUESTS} seeded hostile requests: the gateway stays up, answers in shape, leaks nothing, leaks no slot`, async () => {
  const cases = makeCases(prng(SEED));
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      let r;
      try {
        r = await c.send();
      } catch (err) {
        // A client that aborted its own stream sees its abort; anything else is a failure.
        if ((err as Error).name !== "AbortError") failures.push(`${c.what}: request failed: ${(err as Error).message}`);
        continue;
      }
      if (r === undefined) continue; // closed without an answer: only a cut-off body may be
      const leaked = PIECES.find((piece) => r.text.includes(piece));
      if (leaked !== undefined) failures.push(`${c.what}: leaked "${leaked}"`);
      if (!c.ok(r.status)) failures.push(`${c.what}: status ${r.status}: ${r.text.slice(0, 200)}`);
      if (r.type.startsWith("text/event-stream")) continue;
      if (!r.type.startsWith("application/json")) failures.push(`${c.what}: content-type ${JSON.stringify(r.type)}`);
      else if (r.status >= 400) {
        try {
          const e = (JSON.parse(r.text) as { error: { message: unknown; type: unknown } }).error;
          if (typeof e.message !== "string" || typeof e.type !== "string") failures.push(`${c.what}: not OpenAI's error shape: ${r.text.slice(0, 200)}`);
        } catch {
          failures.push(`${c.what}: not JSON: ${r.text.slice(0, 200)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // One line per kind of failure, so a regression reads at a glance.
  assert.deepEqual([...new Set(failures)].slice(0, 20), [], `${failures.length} failures`);
  assert.equal(gateway.child.exitCode, null, `the gateway exited:\n${gateway.stderr()}`);

  // Aborted streams release their slots as the gateway learns of the aborts: ask until they are all back (bounded).
  let inFlight = -1;
  let health = "";
  for (let i = 0; i < 200 && inFlight !== 0; i++) {
    health = await fetch(`${url}/health/upstream`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } }).then((r) => r.text());
    const providers = (JSON.parse(health) as { providers: Record<string, { in_flight: number }> }).providers;
    inFlight = Object.values(providers).reduce((n, p) => n + p.in_flight, 0);
    if (inFlight !== 0) await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(inFlight, 0, health);
  for (const piece of PIECES) {
    assert.ok(!health.includes(piece), `/health/upstream leaked "${piece}"`);
    assert.ok(!gateway.stdout().includes(piece), `the logs leaked "${piece}"`);
    assert.ok(!gateway.stderr().includes(piece), `stderr leaked "${piece}"`);
  }
});
