/**
 * Regression tests for what a hostile client could do to the gateway: kill
 * the process through a response header, blame a provider for its own
 * malformed input, grow memory with model names, or get a non-JSON answer.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import type { GatewayResult } from "../../src/engine/types.ts";
import { headerValue } from "../../src/server/respond.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { closedPort, openaiError, rawRequest, rawSocket } from "./util.ts";

let gw: TestGateway;
let deadPort: number;

before(async () => {
  deadPort = await closedPort();
  gw = await startGateway(
    {
      providers: { demo: { type: "demo" }, dead: { type: "openai", base_url: `http://127.0.0.1:${deadPort}/v1`, api_key: "k" } },
      models: { demo: { targets: ["demo/demo-1"] } },
    },
    { demoTokenGapMs: 0 },
  );
});
after(() => gw.close());

describe("model names", () => {
  for (const [what, model] of [
    ["a line break", "dead/x\n"],
    ["a non-Latin-1 character", "dead/x\u0100"],
    ["a Latin-1 letter and a line break", "dead/x\u00e9\n"],
    ["a NUL", "dead/x\u0000"],
    ["a space", "dead/x y"],
  ] as const) {
    test(`a name with ${what} is a 400 before any upstream is tried, streamed or not`, async () => {
      for (const stream of [false, true]) {
        const res = await post(`${gw.url}/v1/chat/completions`, chat(model, { stream }));
        assert.equal(res.status, 400, res.text);
        const error = openaiError(res.text);
        assert.equal(error.param, "model");
        assert.equal(res.headers.get("x-switchyard-attempts"), "0");
        assert.equal(res.headers.get("x-switchyard-target"), null);
      }
      assert.equal((await gw.engine.providerHealth()).dead.in_flight, 0);
    });
  }

  test("a name over 256 characters is a 400 naming the limit, and is not echoed in a header", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat(`dead/${"m".repeat(900_000)}`));
    assert.equal(res.status, 400);
    assert.match(openaiError(res.text).message, /at most 256/);
    for (const [, v] of res.headers) assert.ok(v.length < 1000, "a long header came back");
  });

  test("a 256-character name is still served", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat(`dead/${"m".repeat(251)}`));
    assert.equal(res.status, 502, res.text);
    assert.equal(res.headers.get("x-switchyard-target"), `dead/${"m".repeat(251)}`);
  });
});

test("deep nesting is a 400 before routing, not a provider failure", async () => {
  // Built as text: serialising it would overflow this test's own stack.
  const nested = `${"[".repeat(5000)}"x"${"]".repeat(5000)}`;
  const body = `{"model":"dead/m","messages":[{"role":"user","content":${nested}}]}`;
  const before = (await gw.engine.providerHealth()).dead.last_error_at;
  const res = await post(`${gw.url}/v1/chat/completions`, body);
  assert.equal(res.status, 400, res.text);
  const error = openaiError(res.text);
  assert.equal(error.param, "body");
  assert.match(error.message, /64 levels/);
  assert.equal(res.headers.get("x-switchyard-attempts"), "0");
  // Nothing was recorded against the provider.
  assert.equal((await gw.engine.providerHealth()).dead.last_error_at, before);
});

test("nesting at the limit is accepted", async () => {
  let nested: unknown = "x";
  for (let i = 0; i < 60; i++) nested = { a: nested };
  const res = await post(`${gw.url}/v1/chat/completions`, chat("demo", { metadata: nested }));
  assert.equal(res.status, 200, res.text);
});

describe("whatever goes wrong while answering ends that request, never the process", () => {
  test("a handler that throws gets a JSON 500 and the server keeps serving", async () => {
    const broken = await startGateway({ providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } });
    try {
      broken.engine.handle = async () => {
        throw new TypeError("boom");
      };
      const res = await post(`${broken.url}/v1/chat/completions`, chat("demo"));
      assert.equal(res.status, 500);
      const error = openaiError(res.text);
      assert.equal(error.code, "SY_ERR_INTERNAL");
      assert.doesNotMatch(error.message, /boom/);
      assert.equal((await fetch(`${broken.url}/health`)).status, 200);
    } finally {
      await broken.close();
    }
  });

  test("a target label that is not a legal header value is encoded, not thrown", async () => {
    const odd = await startGateway({ providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } });
    try {
      const handle = odd.engine.handle.bind(odd.engine);
      odd.engine.handle = async (...args): Promise<GatewayResult> => ({ ...(await handle(...args)), target: "demo/x\u00e9\n" });
      const res = await post(`${odd.url}/v1/chat/completions`, chat("demo"));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("x-switchyard-target"), "demo%2Fx%C3%A9%0A");
    } finally {
      await odd.close();
    }
  });

  test("headerValue leaves plain values alone", () => {
    assert.equal(headerValue("openai/gpt-4o-mini"), "openai/gpt-4o-mini");
    assert.equal(headerValue("a\r\nb"), "a%0D%0Ab");
  });
});

describe("content type and encoding", () => {
  test("a cross-site text/plain POST is refused with a 415 before the body is used", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"), { "content-type": type });
      assert.equal(res.status, 415, type);
      const error = openaiError(res.text);
      assert.equal(error.code, "SY_ERR_UNSUPPORTED_MEDIA_TYPE");
      assert.match(error.message, /application\/json/);
    }
  });

  test("a missing content type is a 415 that says what to send", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", { method: "POST", body: JSON.stringify(chat("demo")) });
    assert.equal(res.status, 415);
    assert.match(openaiError(res.text).message, /missing content-type/);
  });

  test("application/json in any case, with parameters, is accepted", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"), { "content-type": "Application/JSON; charset=utf-8" });
    assert.equal(res.status, 200, res.text);
  });

  test("content-encoding identity (any case) or empty is not a 415", async () => {
    for (const encoding of ["identity", "IDENTITY", " Identity ", ""]) {
      const res = await rawRequest(gw.url, "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": encoding },
        body: JSON.stringify(chat("demo")),
      });
      assert.equal(res.status, 200, `${JSON.stringify(encoding)}: ${res.text}`);
    }
  });
});

describe("requests the HTTP parser refuses get a JSON answer in OpenAI's shape", () => {
  const cases: Array<[string, (host: string) => string, number, RegExp]> = [
    ["oversized headers", (h) => `GET /health HTTP/1.1\r\nhost: ${h}\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`, 431, /too large/],
    [
      "bad chunked framing",
      (h) => `POST /v1/chat/completions HTTP/1.1\r\nhost: ${h}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      400,
      /chunk size/,
    ],
    [
      "Content-Length with Transfer-Encoding",
      (h) =>
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${h}\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      400,
      /Transfer-Encoding can't be present with Content-Length/,
    ],
    ["an unknown method", (h) => `BREW /health HTTP/1.1\r\nhost: ${h}\r\n\r\n`, 400, /unknown method/],
    ["HTTP/1.2", (h) => `GET /health HTTP/1.2\r\nhost: ${h}\r\n\r\n`, 400, /HTTP version/],
    ["a line feed inside x-request-id", (h) => `GET /health HTTP/1.1\r\nhost: ${h}\r\nx-request-id: a\nb: c\r\n\r\n`, 400, /malformed/],
    ["a CR inside x-request-id", (h) => `GET /health HTTP/1.1\r\nhost: ${h}\r\nx-request-id: a\rb\r\n\r\n`, 400, /malformed/],
  ];
  for (const [what, bytes, status, message] of cases) {
    test(what, async () => {
      const reply = await rawSocket(gw.url, bytes(new URL(gw.url).host));
      const head = reply.slice(0, reply.indexOf("\r\n\r\n"));
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), reply);
      assert.match(head, /content-type: application\/json/);
      const error = openaiError(reply.slice(reply.indexOf("\r\n\r\n") + 4));
      assert.match(error.message, message);
      assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    });
  }
});

describe("slow and idle clients (server.timeouts, server.max_connections)", () => {
  let slow: TestGateway;
  before(async () => {
    slow = await startGateway(
      {
        // Long enough that a loaded machine still parses a prompt request in time; short enough to wait for.
        server: { timeouts: { headers: "500ms", body: "500ms", keep_alive: "300ms" } },
        providers: { demo: { type: "demo" } },
        models: { demo: { targets: ["demo/demo-1"] } },
      },
      { demoTokenGapMs: 100 },
    );
  });
  after(() => slow.close());

  async function open() {
    const { hostname, port } = new URL(slow.url);
    const socket = connect(Number(port), hostname);
    socket.on("error", () => {});
    await once(socket, "connect");
    let got = "";
    socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
    const closed = once(socket, "close").then(() => got);
    return { socket, closed };
  }

  test("a connection that never sends its headers gets a JSON 408 and is closed", async () => {
    const { closed } = await open();
    const reply = await closed;
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.equal(openaiError(reply.slice(reply.indexOf("\r\n\r\n") + 4)).code, "SY_ERR_REQUEST_TIMEOUT");
  });

  test("headers trickled a byte at a time are cut off with a 408", async () => {
    const { socket, closed } = await open();
    const text = `GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ${"a".repeat(10_000)}\r\n\r\n`;
    let i = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && i < text.length) socket.write(text[i++]);
    }, 5);
    const reply = await closed;
    clearInterval(drip);
    assert.match(reply, /^HTTP\/1\.1 408 /);
  });

  test("a body that stalls half way gets a 408 and the request ends", async () => {
    const { socket, closed } = await open();
    socket.write("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"model\":");
    const reply = await closed;
    assert.match(reply, /^HTTP\/1\.1 408 /);
  });

  test("an idle keep-alive connection is closed after keep_alive", async () => {
    const { socket, closed } = await open();
    socket.write("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
    const reply = await closed;
    assert.match(reply, /^HTTP\/1\.1 200 /);
    // One answer only: no second status line (a 408) before the close. (The request id is random: it may hold "408".)
    assert.equal(reply.match(/^HTTP\/1\.1 /gm)?.length, 1);
  });

  test("a stream that lasts longer than the request timeouts is not cut", async () => {
    const res = await post(`${slow.url}/v1/chat/completions`, chat("demo", { stream: true }));
    assert.equal(res.status, 200);
    assert.match(res.text, /data: \[DONE\]/);
    assert.doesNotMatch(res.text, /"error"/);
  });
});

test("connections past server.max_connections are closed at once, and the gateway serves again once they go", async () => {
  const capped = await startGateway({ server: { max_connections: 2 }, providers: { demo: { type: "demo" } }, models: {} });
  try {
    const { hostname, port } = new URL(capped.url);
    const dial = () => {
      const socket = connect(Number(port), hostname);
      socket.on("error", () => {});
      let got = "";
      socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
      // Not events.once: it would reject on the reset that a dropped connection gets.
      const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(got)));
      const connected = new Promise((resolve) => socket.on("connect", resolve));
      return { socket, closed, connected };
    };
    const held = [dial(), dial()];
    await Promise.all(held.map((h) => h.connected));
    // Half a request each, so the server has counted both before the third arrives.
    for (const h of held) h.socket.write("GET /health HTTP/1.1\r\nhost: x\r\n");
    const extra = dial();
    extra.socket.on("connect", () => extra.socket.write("GET /health HTTP/1.1\r\nhost: x\r\n\r\n"));
    assert.equal(await extra.closed, "", "the connection over the cap got an answer");
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    // The server learns of the closes asynchronously: ask until it answers (bounded).
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await fetch(`${capped.url}/health`).then((r) => r.status, () => 0);
    }
    assert.equal(status, 200);
  } finally {
    await capped.close();
  }
});
