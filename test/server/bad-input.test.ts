import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import OpenAI from "openai";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { openaiError, rawRequest, rawSocket } from "./util.ts";

let gw: TestGateway;

before(async () => {
  gw = await startGateway(
    {
      server: { max_body: "1kb" },
      providers: { demo: { type: "demo" } },
      models: { demo: { targets: ["demo/demo-1"] }, "fast-chat": { targets: ["demo/demo-1"] } },
    },
    { demoTokenGapMs: 0 },
  );
});
after(() => gw.close());

/** POSTs to a path and returns the status plus the validated OpenAI error. */
async function postError(path: string, body: unknown) {
  const res = await post(`${gw.url}${path}`, body);
  assert.equal(res.headers.get("content-type"), "application/json");
  return { status: res.status, error: openaiError(res.text), headers: res.headers };
}

describe("malformed bodies", () => {
  test("malformed JSON is a 400 that names JSON", async () => {
    const { status, error } = await postError("/v1/chat/completions", '{"model": "demo", "messages": [');
    assert.equal(status, 400);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.code, "SY_ERR_INVALID_JSON");
    assert.match(error.message, /JSON/);
  });

  test("a body in an encoding the gateway does not read is a 415 naming it", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "zstd" },
      body: JSON.stringify(chat("demo")),
    });
    assert.equal(res.status, 415);
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_UNSUPPORTED_MEDIA_TYPE");
    assert.match(error.message, /zstd/);
  });

  test("an empty body is a 400 that says it is empty", async () => {
    const { status, error } = await postError("/v1/chat/completions", "");
    assert.equal(status, 400);
    assert.equal(error.code, "SY_ERR_INVALID_JSON");
    assert.match(error.message, /empty/);
  });

  test("a JSON array or string body is a 400 about the body", async () => {
    for (const body of ["[1,2,3]", '"hello"', "null", "42"]) {
      const { status, error } = await postError("/v1/chat/completions", body);
      assert.equal(status, 400, body);
      assert.equal(error.param, "body", body);
      assert.match(error.message, /must be a JSON object/, body);
    }
    const { error } = await postError("/v1/chat/completions", "[1]");
    assert.match(error.message, /got array/);
  });
});

describe("request fields", () => {
  const cases: Array<{ name: string; path?: string; body: unknown; param: string; message: RegExp }> = [
    { name: "missing model", body: { messages: [{ role: "user", content: "hi" }] }, param: "model", message: /missing required field: model/ },
    { name: "model of wrong type", body: { model: 42, messages: [{ role: "user", content: "hi" }] }, param: "model", message: /model must be a non-empty string, got number/ },
    { name: "empty model", body: chat(""), param: "model", message: /model must be a non-empty string/ },
    { name: "missing messages", body: { model: "demo" }, param: "messages", message: /missing required field: messages/ },
    { name: "messages not an array", body: { model: "demo", messages: "hi" }, param: "messages", message: /messages must be an array, got string/ },
    { name: "empty messages", body: { model: "demo", messages: [] }, param: "messages", message: /at least one message/ },
    { name: "a message that is not an object", body: { model: "demo", messages: ["hi"] }, param: "messages[0]", message: /messages\[0\] must be an object/ },
    {
      name: "a message without role",
      body: { model: "demo", messages: [{ role: "system", content: "x" }, { content: "hi" }] },
      param: "messages[1].role",
      message: /messages\[1\]\.role/,
    },
    { name: 'stream: "yes"', body: chat("demo", { stream: "yes" }), param: "stream", message: /stream must be a boolean, got string/ },
    { name: "max_tokens: -1", body: chat("demo", { max_tokens: -1 }), param: "max_tokens", message: /max_tokens must be a positive integer, got -1/ },
    { name: "max_tokens: 1.5", body: chat("demo", { max_tokens: 1.5 }), param: "max_tokens", message: /positive integer/ },
    { name: "temperature as a string", body: chat("demo", { temperature: "hot" }), param: "temperature", message: /temperature must be a number/ },
    { name: "completions without prompt", path: "/v1/completions", body: { model: "demo" }, param: "prompt", message: /missing required field: prompt/ },
    { name: "embeddings without input", path: "/v1/embeddings", body: { model: "demo" }, param: "input", message: /missing required field: input/ },
    { name: "embeddings with an empty input array", path: "/v1/embeddings", body: { model: "demo", input: [] }, param: "input", message: /non-empty array/ },
  ];
  for (const c of cases) {
    test(`${c.name} → 400 naming ${c.param}`, async () => {
      const { status, error, headers } = await postError(c.path ?? "/v1/chat/completions", c.body);
      assert.equal(status, 400);
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.code, "SY_ERR_BAD_REQUEST");
      assert.equal(error.param, c.param);
      assert.match(error.message, c.message);
      // Rejected before any upstream was tried.
      assert.equal(headers.get("x-switchyard-attempts"), "0");
    });
  }

  test("the un-prefixed paths validate the same way", async () => {
    const { status, error } = await postError("/chat/completions", { model: "demo" });
    assert.equal(status, 400);
    assert.equal(error.param, "messages");
  });
});

test("an unknown model is a 404 listing the available model names", async () => {
  const { status, error } = await postError("/v1/chat/completions", chat("no-such-model"));
  assert.equal(status, 404);
  // OpenAI's own code, which SDKs and apps check, with the gateway's beside it.
  assert.equal(error.code, "model_not_found");
  assert.equal(error.switchyard_code, "SY_ERR_MODEL_NOT_FOUND");
  assert.equal(error.param, "model");
  assert.match(error.message, /"no-such-model"/);
  assert.match(error.message, /available models: demo, fast-chat/);
});

describe("body size limit (server.max_body: 1kb)", () => {
  const big = JSON.stringify(chat("demo", { messages: [{ role: "user", content: "x".repeat(2000) }] }));

  test("a body just under the limit is accepted", async () => {
    const body = JSON.stringify(chat("demo", { messages: [{ role: "user", content: "x".repeat(900) }] }));
    assert.ok(Buffer.byteLength(body) <= 1024);
    const res = await rawRequest(gw.url, "/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body });
    assert.equal(res.status, 200, res.text);
  });

  test("with content-length → 413", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(big) },
      body: big,
    });
    assert.equal(res.status, 413);
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_BODY_TOO_LARGE");
    assert.match(error.message, /1024 bytes/);
    assert.match(error.message, /max_body/);
  });

  test("with chunked transfer encoding → 413", async () => {
    const pieces = [big.slice(0, 600), big.slice(600, 1200), big.slice(1200)];
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      chunks: pieces,
    });
    assert.equal(res.status, 413);
    assert.equal(openaiError(res.text).code, "SY_ERR_BODY_TOO_LARGE");
  });

  test("the gateway still serves after refusing big bodies", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"));
    assert.equal(res.status, 200, res.text);
  });
});

describe("routing errors", () => {
  test("an unknown path is a JSON 404", async () => {
    for (const path of ["/v1/nope", "/nope", "/v2/chat/completions?x=1"]) {
      const res = await rawRequest(gw.url, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers["content-type"], "application/json");
      const error = openaiError(res.text);
      assert.equal(error.code, "SY_ERR_NOT_FOUND");
      assert.match(error.message, new RegExp(`GET ${path.split("?")[0].replace(/[/.]/g, "\\$&")}`));
    }
  });

  test("PUT /v1/chat/completions is a JSON 405 with allow: POST, OPTIONS", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", { method: "PUT", body: JSON.stringify(chat("demo")) });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, "POST, OPTIONS");
    assert.equal(res.headers["content-type"], "application/json");
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_METHOD_NOT_ALLOWED");
    assert.match(error.message, /PUT/);
  });

  test("POST /v1/models is a JSON 405 with allow: GET, HEAD, OPTIONS", async () => {
    const res = await rawRequest(gw.url, "/v1/models", { method: "POST", body: "{}" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, "GET, HEAD, OPTIONS");
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_METHOD_NOT_ALLOWED");
    assert.match(error.message, /POST.*\/v1\/models.*GET/);
  });
});

describe("through the official SDK", () => {
  test("a 400 surfaces as BadRequestError with status and message", async () => {
    const err = await gw.client.chat.completions.create({ model: "demo", messages: [] }).then(
      () => assert.fail("expected a 400"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.BadRequestError, `got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.param, "messages");
    assert.match(err.message, /messages must contain at least one message/);
  });

  test("an unknown model surfaces as NotFoundError naming the models", async () => {
    const err = await gw.client.chat.completions.create({ model: "gpt-nope", messages: [{ role: "user", content: "hi" }] }).then(
      () => assert.fail("expected a 404"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${String(err)}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, "model_not_found");
    assert.match(err.message, /"gpt-nope" not found; available models: demo, fast-chat/);
  });
});

describe("garbage on the wire", () => {
  test("an invalid request line gets a 400 and the server keeps serving", async () => {
    const reply = await rawSocket(gw.url, "THIS IS NOT HTTP\r\n\r\n");
    assert.match(reply, /^HTTP\/1\.1 400 /);
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"));
    assert.equal(res.status, 200, res.text);
  });

  test("binary junk does not crash the server", async () => {
    await rawSocket(gw.url, Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]));
    const res = await fetch(`${gw.url}/health`);
    assert.equal(res.status, 200);
  });

  test("a huge header is refused and the server keeps serving", async () => {
    const { host } = new URL(gw.url);
    const reply = await rawSocket(gw.url, `GET /health HTTP/1.1\r\nhost: ${host}\r\nx-huge: ${"a".repeat(20 * 1024)}\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 4\d\d /);
    assert.doesNotMatch(reply, /^HTTP\/1\.1 200/);
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"));
    assert.equal(res.status, 200, res.text);
  });

  test("a request cut off mid-body does not crash the server", async () => {
    const { host, hostname, port } = new URL(gw.url);
    const socket = connect(Number(port), hostname);
    await once(socket, "connect");
    socket.on("error", () => {});
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"model":`);
    socket.destroy();
    await once(socket, "close");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"));
    assert.equal(res.status, 200, res.text);
  });

  test(
    "garbage pipelined behind a streaming response is not spliced into that stream",
    {},
    async (t) => {
      const paced = await startGateway(
        { providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } },
        { demoTokenGapMs: 20 },
      );
      t.after(() => paced.close());
      const { host, hostname, port } = new URL(paced.url);
      const socket = connect(Number(port), hostname);
      await once(socket, "connect");
      socket.on("error", () => {});
      let got = "";
      socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
      const body = JSON.stringify(chat("demo", { stream: true }));
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      while (!got.includes("data: ")) await once(socket, "data");
      // The stream has more than a dozen events still to come, 20 ms apart.
      socket.write("GARBAGE GARBAGE\r\n\r\n");
      await once(socket, "close");
      const head = got.indexOf("\r\n\r\n");
      assert.match(got.slice(0, head), /^HTTP\/1\.1 200 /);
      assert.ok(!got.slice(head).includes("HTTP/1.1 400"), `a 400 status line was written into the SSE body:\n${got.slice(head)}`);
      // And the server is still fine.
      const res = await post(`${paced.url}/v1/chat/completions`, chat("demo"));
      assert.equal(res.status, 200);
    },
  );
});
