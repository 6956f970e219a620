import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import type { GatewayError } from "../../src/protocol/errors.ts";
import { chat, openChatStream, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { CANARY, chunkEvent, startLeakyUpstream } from "../helpers/leaky-upstream.ts";

/** Parses a raw SSE body into its events, asserting each one is complete. */
function events(text: string): string[] {
  assert.ok(text.endsWith("\n\n"), "the stream ends on an event boundary");
  return text.slice(0, -2).split("\n\n");
}

describe("streaming", () => {
  let primary: MockUpstream;
  let backup: MockUpstream;
  let gw: TestGateway;
  before(async () => {
    primary = await startMockUpstream({ tokens: 40, tokensPerSecond: 2000 });
    backup = await startMockUpstream();
    gw = await startGateway(
      {
        providers: {
          primary: { type: "openai", base_url: primary.url },
          backup: { type: "openai", base_url: backup.url },
        },
        models: { chat: { targets: ["primary/a", { provider: "backup", model: "b", priority: 1 }], retry: { base_delay: "1ms" } } },
      },
      { random: () => 0 },
    );
  });
  after(async () => {
    await gw.close();
    await primary.close();
    await backup.close();
  });

  test("a failure after the first byte ends the stream with one OpenAI-shaped error event, every event whole", async () => {
    primary.reset();
    backup.reset();
    primary.setFault("reset-mid;after=3");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat", { stream: true }));
    assert.equal(res.status, 200);
    const evs = events(res.text);
    for (const e of evs) {
      assert.ok(e.startsWith("data: "), `event ${JSON.stringify(e)} is a data event`);
      JSON.parse(e.slice(6));
    }
    const last = JSON.parse(evs.at(-1)!.slice(6));
    assert.equal(last.error.code, "SY_ERR_UPSTREAM_RESET");
    assert.equal(typeof last.error.message, "string");
    assert.equal(evs.length, 4, "three good events then the error");
    assert.equal(backup.requests.length, 0, "no failover once the client has bytes");
  });

  test("the SDK sees the delivered chunks and then an error", async () => {
    primary.setFault("reset-mid;after=3");
    const stream = await gw.client.chat.completions.create({ ...chat("chat"), stream: true } as never);
    let chunks = 0;
    await assert.rejects(
      async () => {
        for await (const _ of stream as unknown as AsyncIterable<unknown>) chunks++;
      },
      (err: unknown) => err instanceof OpenAI.APIError && err.code === "SY_ERR_UPSTREAM_RESET",
    );
    assert.equal(chunks, 3);
  });

  test("a mid-stream upstream failure is the abort reason, so the upstream call is not counted as a client abort", async () => {
    primary.reset();
    primary.setFault("reset-mid;after=3");
    const controller = new AbortController();
    const result = await gw.engine.handle("chat", chat("chat", { stream: true }), { requestId: "reason-1", controller });
    const written: string[] = [];
    let failed: GatewayError | undefined;
    await result.stream!.pipeTo({
      write: (c) => written.push(Buffer.from(c).toString()) > 0,
      end: () => {},
      fail: (err) => {
        failed = err;
      },
      closed: false,
      onDrain: () => {},
      onClose: () => {},
    });
    assert.equal(failed?.code, "SY_ERR_UPSTREAM_RESET", "the front is handed the failure to write in its shape");
    assert.equal(written.join("").split("\n\n").filter(Boolean).length, 3, "the events before it, and no error event of the engine's own");
    const reason = controller.signal.reason as GatewayError;
    assert.equal(reason.code, "SY_ERR_UPSTREAM_RESET");
  });

  test("a client that stops reading is the abort reason when it leaves", async () => {
    primary.reset();
    const controller = new AbortController();
    const result = await gw.engine.handle("chat", chat("chat", { stream: true }), { requestId: "reason-2", controller });
    const it = result.stream![Symbol.asyncIterator]();
    await it.next();
    await it.return!();
    assert.equal((controller.signal.reason as GatewayError).code, "SY_ERR_CLIENT_ABORT");
  });

  test("a client that disconnects aborts the upstream request at once, without retry", async () => {
    primary.reset();
    backup.reset();
    primary.setFault(null);
    const slow = await startMockUpstream({ tokens: 1000, tokensPerSecond: 50 });
    const gw2 = await startGateway({
      providers: { slow: { type: "openai", base_url: slow.url }, backup: { type: "openai", base_url: backup.url } },
      models: { m: { targets: ["slow/x", { provider: "backup", model: "y", priority: 1 }] } },
    });
    try {
      const ac = new AbortController();
      const res = await openChatStream(gw2.url, ac.signal);
      const reader = res.body!.getReader();
      await reader.read();
      const aborted = once(slow, "abort");
      ac.abort();
      const [record] = await aborted;
      assert.equal(record.aborted, true);
      assert.equal(slow.requests.length, 1);
      assert.equal(backup.requests.length, 0, "an aborted request is not retried elsewhere");
      const health = await gw2.engine.providerHealth();
      assert.equal(health.slow.in_flight, 0);
    } finally {
      await gw2.close();
      await slow.close();
    }
  });
});

describe("an upstream error event mid-stream", () => {
  test("reaches the client as the stream's one error event, redacted, after the events before it untouched", async () => {
    const leaky = await startLeakyUpstream();
    const gw = await startGateway({
      // A short idle timeout, so that an upstream left running ends the stream instead of holding it.
      providers: { leaky: { type: "openai", base_url: leaky.url, api_key: CANARY, timeouts: { idle: "300ms" } } },
      models: { m: { targets: ["leaky/x"], retry: { attempts: 1 } } },
    });
    try {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("m", { stream: true }));
      assert.equal(res.status, 200);
      assert.ok(!res.text.includes(CANARY), `the key leaked: ${res.text}`);
      const evs = events(res.text);
      assert.deepEqual(evs.slice(0, 2), [chunkEvent("one"), chunkEvent("two")].map((e) => e.slice(0, -2)));
      assert.equal(evs.length, 3, "no event after the error, and no second error event");
      const last = JSON.parse(evs[2].slice(6)) as { error: { code: string; status: number; message: string } };
      assert.equal(last.error.code, "SY_ERR_UPSTREAM_STATUS");
      assert.equal(last.error.status, 401, "the status the event gave");
      assert.match(last.error.message, /Incorrect API key provided: Bearer \[redacted\]/);
      assert.equal(await leaky.closed(), true, "the upstream request is aborted");
      assert.equal(gw.engine.health.inFlight("leaky"), 0);
    } finally {
      await gw.close();
      await leaky.close();
    }
  });
});

describe("byte passthrough", () => {
  // A fixed upstream stream, deliberately split mid-event and with multi-byte characters across chunks.
  const body =
    'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n' +
    'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"héllo ✓ wörld"}}],"extra":{"kept":true}}\n\n' +
    ': a comment line\n\n' +
    'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n' +
    "data: [DONE]\n\n";
  const bytes = Buffer.from(body);
  const cuts = [7, 130, 131, 175, 176, 250, bytes.length];
  let upstream: Server;
  let gw: TestGateway;
  before(async () => {
    upstream = createServer(async (req, res) => {
      for await (const _ of req);
      res.writeHead(200, { "content-type": "text/event-stream" });
      let from = 0;
      for (const to of cuts) {
        res.write(bytes.subarray(from, to));
        from = to;
        await new Promise<void>((r) => setImmediate(r));
      }
      res.end();
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const { port } = upstream.address() as { port: number };
    gw = await startGateway({
      providers: { fixed: { type: "openai", base_url: `http://127.0.0.1:${port}/v1` } },
      models: { m: { targets: ["fixed/x"] } },
    });
  });
  after(async () => {
    await gw.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  test("the client receives exactly the upstream's bytes", async () => {
    const res = await openChatStream(gw.url);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const got = Buffer.from(await res.arrayBuffer());
    assert.equal(got.compare(bytes), 0, `got ${JSON.stringify(got.toString())}`);
  });
});

/** Reads raw HTTP/1.x off a socket until `done(text)` says the exchange is complete or the socket closes. */
async function exchange(url: string, requests: string, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, "connect");
  let text = "";
  let closed = false;
  const finished = new Promise<void>((resolve) => {
    socket.on("data", (c: Buffer) => {
      text += c.toString("utf8");
      if (done(text)) resolve();
    });
    socket.on("close", () => {
      closed = true;
      resolve();
    });
  });
  socket.write(requests);
  await finished;
  socket.destroy();
  return { text, closed };
}

/** Decodes a chunked body, asserting every size line matches its data. */
function dechunk(raw: string): string {
  const bytes = Buffer.from(raw);
  let at = 0;
  let out = "";
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    const size = Number.parseInt(bytes.subarray(at, eol).toString(), 16);
    assert.ok(Number.isInteger(size), `a chunk size line at ${at}`);
    if (size === 0) return out;
    out += bytes.subarray(eol + 2, eol + 2 + size).toString();
    assert.equal(bytes.subarray(eol + 2 + size, eol + 4 + size).toString(), "\r\n", "each chunk ends with CRLF");
    at = eol + 4 + size;
  }
}

describe("streams on the wire", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  const body = JSON.stringify(chat("m", { stream: true }));
  const request = (version: string) =>
    `POST /v1/chat/completions HTTP/${version}\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  before(async () => {
    upstream = await startMockUpstream({ tokens: 30, tokensPerSecond: 5000 });
    gw = await startGateway({ providers: { up: { type: "openai", base_url: upstream.url } }, models: { m: { targets: ["up/x"] } } });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test("HTTP/1.1: valid chunked framing, then the same connection serves the next request", async () => {
    const twice = request("1.1") + request("1.1");
    const { text } = await exchange(gw.url, twice, (t) => t.split("data: [DONE]\n\n\r\n0\r\n\r\n").length === 3);
    const responses = text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2, "two responses on one connection");
    for (const r of responses) {
      const [head, raw] = [r.slice(0, r.indexOf("\r\n\r\n")), r.slice(r.indexOf("\r\n\r\n") + 4)];
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.match(head, /transfer-encoding: chunked/i);
      const sse = dechunk(raw);
      const evs = events(sse);
      assert.equal(evs.at(-1), "data: [DONE]");
      assert.equal(evs.length, 30 + 3, "role, 30 tokens, finish, [DONE]");
    }
  });

  test("HTTP/1.0: the body is sent unframed and the connection closes at its end", async () => {
    const { text, closed } = await exchange(gw.url, request("1.0"), () => false);
    assert.ok(closed);
    const head = text.slice(0, text.indexOf("\r\n\r\n"));
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(head, /transfer-encoding/i);
    const evs = events(text.slice(head.length + 4));
    assert.equal(evs.at(-1), "data: [DONE]");
  });
});
