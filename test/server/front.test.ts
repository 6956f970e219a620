/** The HTTP front's completeness: models.retrieve, HEAD and OPTIONS, CORS, compressed requests and responses. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { brotliCompressSync, deflateSync, gunzipSync, gzipSync } from "node:zlib";
import OpenAI from "openai";
import { chat, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { openaiError, rawRequest } from "./util.ts";

const KEY = "sy-front-test-key-0123456789";
const auth = { authorization: `Bearer ${KEY}` };
let gw: TestGateway;

before(async () => {
  gw = await startGateway(
    {
      server: {
        max_body: "64kb",
        auth: { keys: [KEY] },
        cors: { origins: ["https://app.example.com"], max_age: "1m" },
        compression: { min_size: 64 },
      },
      providers: { demo: { type: "demo" } },
      models: { demo: { targets: ["demo/demo-1"] } },
    },
    { demoTokenGapMs: 0 },
  );
});
after(() => gw.close());

describe("GET /v1/models/{id}", () => {
  const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });

  test("the SDK's models.retrieve finds a configured model", async () => {
    const m = await client().models.retrieve("demo");
    assert.equal(m.id, "demo");
    assert.equal(m.owned_by, "switchyard");
  });

  test("a provider/model name (with its slash, encoded or not) names its provider", async () => {
    assert.equal((await client().models.retrieve("demo/demo-1")).owned_by, "demo");
    const res = await fetch(`${gw.url}/v1/models/demo/demo-1`, { headers: auth });
    assert.equal(((await res.json()) as { id: string }).id, "demo/demo-1");
  });

  test("an unknown model is NotFoundError with model_not_found", async () => {
    await assert.rejects(client().models.retrieve("nope"), (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === "model_not_found");
  });

  test("a hostile id is a 400, not a cached route", async () => {
    const res = await fetch(`${gw.url}/v1/models/demo%2F${"x".repeat(300)}`, { headers: auth });
    assert.equal(res.status, 400);
    assert.equal((await fetch(`${gw.url}/v1/models/%E0%A4%A`, { headers: auth })).status, 400);
  });

  test("needs the gateway key like the list", async () => {
    assert.equal((await fetch(`${gw.url}/v1/models/demo`)).status, 401);
  });
});

describe("HEAD and OPTIONS", () => {
  test("HEAD answers like GET without a body", async () => {
    const res = await rawRequest(gw.url, "/v1/models", { method: "HEAD", headers: auth });
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
    assert.ok(Number(res.headers["content-length"]) > 0);
    assert.equal((await rawRequest(gw.url, "/health", { method: "HEAD" })).status, 200);
  });

  test("HEAD on a POST-only route is a 405 listing the methods", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", { method: "HEAD", headers: auth });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, "POST, OPTIONS");
  });

  test("OPTIONS without CORS headers is a 204 with allow, and needs no key", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", { method: "OPTIONS" });
    assert.equal(res.status, 204);
    assert.equal(res.headers.allow, "POST, OPTIONS");
  });
});

describe("CORS (server.cors)", () => {
  const preflight = (origin: string) =>
    rawRequest(gw.url, "/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-stainless-os" },
    });

  test("a preflight from an allowed origin is answered without a key", async () => {
    const res = await preflight("https://app.example.com");
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], "https://app.example.com");
    assert.equal(res.headers["access-control-allow-methods"], "POST, OPTIONS");
    assert.equal(res.headers["access-control-allow-headers"], "authorization, content-type, x-stainless-os");
    assert.equal(res.headers["access-control-max-age"], "60");
  });

  test("a preflight from another origin gets no CORS header, so the browser refuses", async () => {
    const res = await preflight("https://evil.example");
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], undefined);
    assert.equal(res.headers["access-control-allow-methods"], undefined);
  });

  test("the real request from an allowed origin can read the answer and the gateway's headers", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", origin: "https://app.example.com" },
      body: JSON.stringify(chat("demo")),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /x-switchyard-target/);
    assert.match(res.headers.get("vary") ?? "", /Origin/);
  });

  test("the key is still required from an allowed origin", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://app.example.com" },
      body: JSON.stringify(chat("demo")),
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
  });

  test("an origin with a path is refused in the config", async () => {
    await assert.rejects(
      startGateway({ server: { cors: { origins: ["https://app.example.com/x"] } }, providers: {}, models: {} }),
      /server\.cors\.origins\[0\]/,
    );
  });
});

describe("compressed request bodies", () => {
  const body = Buffer.from(JSON.stringify(chat("demo")));
  for (const [encoding, compressed] of [
    ["gzip", gzipSync(body)],
    ["deflate", deflateSync(body)],
    ["br", brotliCompressSync(body)],
    ["GZIP", gzipSync(body)],
  ] as const) {
    test(`${encoding} is read`, async () => {
      const res = await rawRequest(gw.url, "/v1/chat/completions", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "content-encoding": encoding },
        body: compressed,
      });
      assert.equal(res.status, 200, res.text);
    });
  }

  test("a zip bomb is a 413: max_body counts the decompressed bytes", async () => {
    const bomb = gzipSync(Buffer.from(`{"model":"demo","messages":[{"role":"user","content":"${"a".repeat(5_000_000)}"}]}`));
    assert.ok(bomb.length < 64 * 1024, "the bomb must fit under max_body compressed");
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "content-encoding": "gzip" },
      body: bomb,
    });
    assert.equal(res.status, 413);
    assert.equal(openaiError(res.text).code, "SY_ERR_BODY_TOO_LARGE");
  });

  test("endless empty gzip members are cut off by the compressed size", async () => {
    const empty = gzipSync(Buffer.alloc(0));
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "content-encoding": "gzip" },
      chunks: Array.from({ length: 4000 }, () => empty),
    });
    assert.equal(res.status, 413);
  });

  test("a corrupt gzip body is a 400 naming the encoding", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "content-encoding": "gzip" },
      body: Buffer.from("definitely not gzip"),
    });
    assert.equal(res.status, 400);
    assert.match(openaiError(res.text).message, /not valid gzip/);
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  });
});

describe("compressed responses (server.compression)", () => {
  const ask = (acceptEncoding: string) =>
    rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "accept-encoding": acceptEncoding },
      body: JSON.stringify(chat("demo")),
    });

  test("a whole answer over min_size is gzipped for a client that accepts it", async () => {
    const { request } = await import("node:http");
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { ...auth, "content-type": "application/json", "accept-encoding": "gzip" } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on("error", reject);
      req.end(JSON.stringify(chat("demo")));
    });
    assert.equal(raw.headers["content-encoding"], "gzip");
    assert.equal(raw.headers.vary, "Origin, Accept-Encoding");
    const parsed = JSON.parse(gunzipSync(raw.body).toString("utf8")) as { object: string };
    assert.equal(parsed.object, "chat.completion");
  });

  test("q=0 refuses an encoding; no acceptable one means none", async () => {
    const res = await ask("gzip;q=0, identity");
    assert.equal(res.headers["content-encoding"], undefined);
    assert.equal(JSON.parse(res.text).object, "chat.completion");
  });

  test("the SDK (which accepts gzip) reads compressed answers transparently", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: "demo", messages: [{ role: "user", content: "hi" }] });
    assert.ok(res.choices[0].message.content);
  });

  test("streams stay uncompressed by default", async () => {
    const res = await rawRequest(gw.url, "/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "accept-encoding": "gzip" },
      body: JSON.stringify(chat("demo", { stream: true })),
    });
    assert.equal(res.headers["content-encoding"], undefined);
    assert.match(res.text, /data: \[DONE\]/);
  });

  test("with compression.streams, a stream is gzipped and each event can be read as it arrives", async () => {
    const { createGunzip } = await import("node:zlib");
    const { request } = await import("node:http");
    const paced = await startGateway(
      { server: { compression: { streams: true } }, providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } },
      { demoTokenGapMs: 30 },
    );
    try {
      const order: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const req = request(`${paced.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "accept-encoding": "gzip" } }, (res) => {
          assert.equal(res.headers["content-encoding"], "gzip");
          const gunzip = createGunzip();
          let text = "";
          gunzip.on("data", (d: Buffer) => {
            text += d.toString("utf8");
            if (order.length === 0 && text.includes("data: {")) order.push("first event decoded");
          });
          res.on("data", (c: Buffer) => gunzip.write(c));
          res.on("end", () => {
            order.push("response ended");
            gunzip.end(() => {
              assert.match(text, /data: \[DONE\]/);
              resolve();
            });
          });
        });
        req.on("error", reject);
        req.end(JSON.stringify(chat("demo", { stream: true })));
      });
      assert.deepEqual(order, ["first event decoded", "response ended"]);
    } finally {
      await paced.close();
    }
  });

  test("small answers and compression: false send the body as it is", async () => {
    const plain = await startGateway({ server: { compression: false }, providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } });
    try {
      const res = await rawRequest(plain.url, "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "accept-encoding": "gzip, br" },
        body: JSON.stringify(chat("demo")),
      });
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal((await rawRequest(gw.url, "/health", { headers: { "accept-encoding": "gzip" } })).headers["content-encoding"], undefined);
    } finally {
      await plain.close();
    }
  });
});
