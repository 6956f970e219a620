import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { openaiError, rawRequest } from "./util.ts";

const PROVIDER_KEY = "sk-test-secret-0123456789";
const CLIENT_KEY = "sk-client-own-key-987654321";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let mock: MockUpstream;
let gw: TestGateway;

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    providers: {
      primary: {
        type: "openai",
        base_url: mock.url,
        api_key: PROVIDER_KEY,
        headers: { "x-org-id": "acme", "OpenAI-Organization": "org-123" },
      },
      keyless: { type: "openai", base_url: mock.url },
    },
    models: {
      chat: { targets: [{ provider: "primary", model: "gpt-4o-mini" }], retry: { attempts: 2, base_delay: "1ms", max_delay: "1ms" } },
      open: { targets: ["keyless/mock-model"] },
    },
  });
});
after(async () => {
  await gw.close();
  await mock.close();
});
beforeEach(() => mock.reset());

const url = () => `${gw.url}/v1/chat/completions`;

/** Reads a whole SSE response so the connection is released. */
async function streamed(headers: Record<string, string> = {}) {
  const res = await fetch(url(), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(chat("chat", { stream: true })),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

describe("x-request-id", () => {
  test("is generated for a success, a stream and an error when the client sends none", async () => {
    const ok = await post(url(), chat("chat"));
    const st = await streamed();
    const bad = await post(url(), { model: "chat" });
    const missing = await rawRequest(gw.url, "/nowhere");
    assert.equal(ok.status, 200);
    assert.equal(st.status, 200);
    assert.equal(bad.status, 400);
    assert.equal(missing.status, 404);
    const ids = [ok.headers.get("x-request-id"), st.headers.get("x-request-id"), bad.headers.get("x-request-id"), missing.headers["x-request-id"]];
    for (const id of ids) assert.match(String(id), UUID);
    assert.equal(new Set(ids).size, ids.length, "each request gets its own id");
  });

  test("a valid client id is echoed on success, stream and error", async () => {
    const id = "trace-01:abc/def@x.y+z=1";
    const ok = await post(url(), chat("chat"), { "x-request-id": id });
    const st = await streamed({ "x-request-id": id });
    const bad = await post(url(), chat("nope"), { "x-request-id": id });
    const wrongMethod = await rawRequest(gw.url, "/v1/models", { method: "DELETE", headers: { "x-request-id": id } });
    assert.equal(ok.headers.get("x-request-id"), id);
    assert.equal(st.headers.get("x-request-id"), id);
    assert.equal(bad.status, 404);
    assert.equal(bad.headers.get("x-request-id"), id);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers["x-request-id"], id);
  });

  test("an invalid client id is replaced, not echoed", async () => {
    for (const id of ["a".repeat(300), "has spaces in it", "semi;colon", "quote\"d"]) {
      const res = await post(url(), chat("chat"), { "x-request-id": id });
      assert.equal(res.status, 200);
      const got = res.headers.get("x-request-id");
      assert.notEqual(got, id);
      assert.match(String(got), UUID, `for ${JSON.stringify(id.slice(0, 20))}`);
    }
  });

  test("128 characters is still accepted", async () => {
    const id = "r".repeat(128);
    const res = await post(url(), chat("chat"), { "x-request-id": id });
    assert.equal(res.headers.get("x-request-id"), id);
  });
});

describe("x-switchyard-attempts and x-switchyard-target", () => {
  test("a success names the target as provider/upstream-model", async () => {
    const res = await post(url(), chat("chat"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "primary/gpt-4o-mini");
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
  });

  test("a stream carries them too", async () => {
    const res = await streamed();
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get("content-type")), /^text\/event-stream/);
    assert.equal(res.headers.get("x-switchyard-target"), "primary/gpt-4o-mini");
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
    assert.match(res.text, /data: \[DONE\]/);
  });

  test("a success after a retry counts both attempts", async () => {
    mock.setFault("status=500", { times: 1 });
    const res = await post(url(), chat("chat"));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
    assert.equal(res.headers.get("x-switchyard-target"), "primary/gpt-4o-mini");
  });

  test("a validation error reports zero attempts", async () => {
    const res = await post(url(), chat("chat", { max_tokens: 0 }));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-switchyard-attempts"), "0");
    assert.equal(res.headers.get("x-switchyard-target"), null);
    assert.equal(mock.requests.length, 0, "nothing reached the upstream");
  });

  test("an upstream failure reports every attempt and the last target", async () => {
    mock.setFault("status=500");
    const res = await post(url(), chat("chat"));
    assert.ok(res.status >= 500, `status ${res.status}`);
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
    assert.equal(res.headers.get("x-switchyard-target"), "primary/gpt-4o-mini");
    assert.match(String(res.headers.get("x-request-id")), UUID);
    const error = openaiError(res.text);
    assert.equal(Array.isArray(error.attempts) && error.attempts.length, 2);
  });

  test("the SDK sees them on the raw response", async () => {
    const { data, response } = await gw.client.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(data.object, "chat.completion");
    assert.equal(response.headers.get("x-switchyard-target"), "primary/gpt-4o-mini");
    assert.equal(response.headers.get("x-switchyard-attempts"), "1");
    assert.match(String(response.headers.get("x-request-id")), UUID);
  });
});

describe("what reaches the upstream", () => {
  test("model is rewritten to the target's model; the rest passes through", async () => {
    const res = await post(url(), chat("chat", { temperature: 0.25, user: "u-1", max_tokens: 3 }));
    assert.equal(res.status, 200);
    const seen = mock.requests.at(-1);
    assert.equal(seen?.path, "/v1/chat/completions");
    assert.equal(seen?.body?.model, "gpt-4o-mini");
    assert.equal(seen?.body?.temperature, 0.25);
    assert.equal(seen?.body?.user, "u-1");
    assert.equal(seen?.body?.max_tokens, 3);
    assert.deepEqual(seen?.body?.messages, [{ role: "user", content: "hi" }]);
    // And the client sees the upstream's answer for that model.
    assert.equal((JSON.parse(res.text) as { model: string }).model, "gpt-4o-mini");
  });

  test("a direct provider/model name routes with the model part only", async () => {
    const res = await post(url(), chat("primary/some-model"));
    assert.equal(res.status, 200, res.text);
    assert.equal(mock.requests.at(-1)?.body?.model, "some-model");
    assert.equal(res.headers.get("x-switchyard-target"), "primary/some-model");
  });

  test("the client's Authorization is replaced by the provider key", async () => {
    const res = await post(url(), chat("chat"), { authorization: `Bearer ${CLIENT_KEY}` });
    assert.equal(res.status, 200);
    const auth = mock.requests.at(-1)?.headers.authorization;
    assert.equal(auth, `Bearer ${PROVIDER_KEY}`);
    assert.ok(!JSON.stringify(mock.requests.at(-1)?.headers).includes(CLIENT_KEY));
  });

  test("the client's Authorization is not forwarded on streams either", async () => {
    const res = await streamed({ authorization: `Bearer ${CLIENT_KEY}` });
    assert.equal(res.status, 200);
    assert.equal(mock.requests.at(-1)?.headers.authorization, `Bearer ${PROVIDER_KEY}`);
  });

  test("with a keyless provider the upstream sees no Authorization at all", async () => {
    const res = await post(url(), chat("open"), { authorization: `Bearer ${CLIENT_KEY}`, "x-api-key": CLIENT_KEY, cookie: "session=abc" });
    assert.equal(res.status, 200, res.text);
    const headers = mock.requests.at(-1)?.headers ?? {};
    assert.equal(headers.authorization, undefined);
    assert.equal(headers["x-api-key"], undefined);
    assert.equal(headers.cookie, undefined);
  });

  test("the official SDK's own key never reaches the upstream", async () => {
    await gw.client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] });
    const headers = mock.requests.at(-1)?.headers ?? {};
    assert.equal(headers.authorization, `Bearer ${PROVIDER_KEY}`);
    assert.ok(!JSON.stringify(headers).includes("client-key-not-forwarded"));
  });

  test("the provider's configured headers reach the upstream", async () => {
    await post(url(), chat("chat"));
    const headers = mock.requests.at(-1)?.headers ?? {};
    assert.equal(headers["x-org-id"], "acme");
    assert.equal(headers["openai-organization"], "org-123");
    assert.equal(headers["content-type"], "application/json");
  });

  test(
    "a configured header that differs from a built-in one only in case replaces it instead of duplicating it",
    {},
    async (t) => {
      const gw2 = await startGateway({
        providers: { p: { type: "openai", base_url: mock.url, headers: { "Content-Type": "application/json; charset=utf-8" } } },
        models: { m: { targets: ["p/gpt-4o-mini"] } },
      });
      t.after(() => gw2.close());
      const res = await post(`${gw2.url}/v1/chat/completions`, chat("m"));
      assert.equal(res.status, 200, res.text);
      assert.equal(mock.requests.at(-1)?.headers["content-type"], "application/json; charset=utf-8");
    },
  );

  test("the health probe sends the provider key and headers too", async () => {
    const res = await fetch(`${gw.url}/health/upstream`);
    assert.equal(res.status, 200);
    const probe = mock.requests.find((r) => r.method === "GET" && r.path === "/v1/models" && r.headers["x-org-id"] === "acme");
    assert.ok(probe, "a probe with the configured headers");
    assert.equal(probe.headers.authorization, `Bearer ${PROVIDER_KEY}`);
  });
});
