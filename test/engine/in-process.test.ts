import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { createGateway, GatewayError, type Gateway } from "switchyard";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";

describe("in-process API: createGateway from the package entry", () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream({ tokens: 8 });
    gw = await createGateway({
      providers: { up: { type: "openai", base_url: mock.url, api_key: "k" }, demo: { type: "demo" } },
      models: { chat: { targets: [{ provider: "up", model: "gpt-4o-mini" }] }, demo: { targets: ["demo/demo-1"] } },
    });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("chat.completions.create answers with a parsed completion", async () => {
    const res = await gw.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] });
    assert.equal(res.object, "chat.completion");
    assert.equal(typeof res.choices[0].message.content, "string");
    assert.equal(mock.requests.at(-1)?.body?.model, "gpt-4o-mini");
  });

  test("stream: true gives an async iterable of chunks", async () => {
    const stream = await gw.chat.completions.create({ model: "chat", stream: true, messages: [{ role: "user", content: "hi" }] });
    assert.equal(stream.target, "up/gpt-4o-mini");
    let text = "";
    let n = 0;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      text += chunk.choices[0]?.delta?.content ?? "";
      n++;
    }
    assert.ok(n >= 8);
    assert.ok(text.length > 0);
  });

  test("the demo provider works in-process too, with completions and embeddings", async () => {
    const c = await gw.completions.create({ model: "demo", prompt: "Say hi" });
    assert.equal(c.object, "text_completion");
    const e = await gw.embeddings.create({ model: "demo", input: ["a", "b"] });
    assert.equal((e.data as unknown[]).length, 2);
  });

  test("models.list names the public models", () => {
    assert.deepEqual(
      gw.models.list().data.map((m) => m.id),
      ["chat", "demo"],
    );
  });

  test("errors are thrown as GatewayError with a code", async () => {
    await assert.rejects(
      gw.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_MODEL_NOT_FOUND" && err.status === 404,
    );
    await assert.rejects(
      gw.chat.completions.create({ model: "chat", messages: [] }),
      (err: unknown) => err instanceof GatewayError && err.param === "messages",
    );
  });

  test("breaking out of a stream aborts the upstream request", async () => {
    const slow = await startMockUpstream({ tokens: 500, tokensPerSecond: 100 });
    const gw2 = await createGateway({ providers: { s: { type: "openai", base_url: slow.url } }, models: { m: { targets: ["s/x"] } } });
    try {
      const stream = await gw2.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
      const aborted = once(slow, "abort");
      for await (const _ of stream) break;
      await aborted;
      assert.equal(slow.requests[0].aborted, true);
    } finally {
      await gw2.close();
      await slow.close();
    }
  });

  test("an AbortSignal cancels the call", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      gw.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }, { signal: ac.signal }),
      (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_CLIENT_ABORT",
    );
  });
});
