import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { closedPort } from "../server/util.ts";

describe("failover across targets", () => {
  let primary: MockUpstream;
  let backup: MockUpstream;
  let gw: TestGateway;
  let refusedUrl: string;

  before(async () => {
    primary = await startMockUpstream();
    backup = await startMockUpstream();
    refusedUrl = `http://127.0.0.1:${await closedPort()}/v1`;
    gw = await startGateway(
      {
        // These tests fail the same target again and again: breakers and retry budgets would step in (test/resilience/).
        defaults: { breaker: false, retry_budget: false },
        providers: {
          primary: { type: "openai", base_url: primary.url, api_key: "k1", timeouts: { first_byte: "300ms", idle: "300ms" } },
          backup: { type: "openai", base_url: backup.url, api_key: "k2" },
          refused: { type: "openai", base_url: refusedUrl, api_key: "k3" },
        },
        models: {
          chat: {
            targets: [
              { provider: "primary", model: "gpt-a" },
              { provider: "backup", model: "gpt-b", priority: 1 },
            ],
            retry: { attempts: 3, base_delay: "1ms", max_delay: "1ms" },
          },
          refused: {
            targets: [
              { provider: "refused", model: "x" },
              { provider: "backup", model: "gpt-b", priority: 1 },
            ],
          },
        },
      },
      { random: () => 0 },
    );
  });
  after(async () => {
    await gw.close();
    await primary.close();
    await backup.close();
  });
  beforeEach(() => {
    primary.reset();
    backup.reset();
  });

  // 401 and 403 are the provider refusing the gateway's key, not the client's fault (see test/server/keys.test.ts).
  const retryable = ["status=401", "status=403", "status=402", "status=429", "status=500", "status=502", "status=503", "status=504", "status=408", "reset", "malformed", "stall-headers"];
  for (const fault of retryable) {
    test(`fails over on ${fault}`, async () => {
      primary.setFault(fault);
      const res = await gw.client.chat.completions.create(chat("chat") as never).withResponse();
      assert.equal(res.response.headers.get("x-switchyard-target"), "backup/gpt-b");
      assert.equal(res.response.headers.get("x-switchyard-attempts"), "2");
      assert.equal(primary.requests.length, 1);
      assert.equal(backup.requests.length, 1);
      assert.equal(backup.requests[0].body?.model, "gpt-b");
      assert.ok(res.data.choices[0].message.content);
    });
  }

  test("fails over when the connection is refused", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("refused"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "backup/gpt-b");
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
  });

  for (const status of [400, 404, 413, 422]) {
    test(`returns upstream ${status} as it is, without retry`, async () => {
      primary.setFault(`status=${status}`);
      const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
      assert.equal(res.status, status);
      assert.equal(res.headers.get("x-switchyard-attempts"), "1");
      assert.equal(primary.requests.length, 1);
      assert.equal(backup.requests.length, 0);
      const body = JSON.parse(res.text);
      assert.equal(typeof body.error.message, "string");
      assert.ok(body.error.message.length > 0);
    });
  }

  test("retries the same target only once the untried ones are used up, bounded by attempts", async () => {
    primary.setFault("status=503");
    backup.setFault("status=503");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-switchyard-attempts"), "3");
    assert.equal(primary.requests.length + backup.requests.length, 3);
    assert.equal(backup.requests.length, 1, "the untried backup comes before a second try of primary");
    const body = JSON.parse(res.text);
    assert.equal(body.error.attempts.length, 3);
    assert.deepEqual(
      body.error.attempts.map((a: { target: string }) => a.target),
      ["primary/gpt-a", "backup/gpt-b", "primary/gpt-a"],
    );
    assert.equal(body.error.attempts[0].status, 503);
  });

  test("a streamed request fails over before its first event, unseen by the client", async () => {
    primary.setFault("error-event");
    const stream = await gw.client.chat.completions.create({ ...chat("chat"), stream: true } as never);
    let text = "";
    for await (const chunk of stream as unknown as AsyncIterable<{ choices: Array<{ delta: { content?: string } }> }>) {
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.ok(text.length > 0);
    assert.equal(primary.requests.length, 1);
    assert.equal(backup.requests.length, 1);
  });

  test("a stream that breaks before its first event fails over", async () => {
    primary.setFault("reset");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat", { stream: true }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "backup/gpt-b");
    assert.match(res.text, /data: \[DONE\]\n\n$/);
  });
});

describe("fallbacks", () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: TestGateway;
  before(async () => {
    a = await startMockUpstream({ fault: "status=503" });
    b = await startMockUpstream();
    gw = await startGateway(
      {
        providers: { a: { type: "openai", base_url: a.url }, b: { type: "openai", base_url: b.url } },
        models: {
          chat: { targets: ["a/big"], retry: { attempts: 2, base_delay: "1ms" }, fallbacks: ["chat-small"] },
          "chat-small": { targets: ["b/tiny"] },
        },
      },
      { random: () => 0 },
    );
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });

  test("the model's fallbacks are tried when every target failed", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-target"), "b/tiny");
    assert.equal(res.headers.get("x-switchyard-attempts"), "3");
    assert.equal(a.requests.length, 2);
    assert.equal(b.requests[0].body?.model, "tiny");
  });

  test("a client error does not reach the fallbacks", async () => {
    a.setFault("status=400");
    b.reset();
    const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
    assert.equal(res.status, 400);
    assert.equal(b.requests.length, 0);
    a.setFault("status=503");
  });
});
