import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { createGateway, GatewayError, type Gateway } from "switchyard";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { CANARY, startLeakyUpstream } from "../helpers/leaky-upstream.ts";

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

  test("an idle timeout mid-stream reaches the caller as the GatewayError it is, after the chunks before it", async () => {
    const stalling = await startMockUpstream({ tokens: 8, fault: "stall-body;after=3" });
    const gw2 = await createGateway({
      providers: { s: { type: "openai", base_url: stalling.url, timeouts: { idle: "100ms" } } },
      models: { m: { targets: ["s/x"], retry: { attempts: 1 } } },
    });
    try {
      const stream = await gw2.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
      let chunks = 0;
      await assert.rejects(
        async () => {
          for await (const _ of stream) chunks++;
        },
        (err: unknown) =>
          err instanceof GatewayError &&
          err.code === "SY_ERR_IDLE_TIMEOUT" &&
          err.status === 504 &&
          err.attempts?.length === 1 &&
          err.attempts[0].target === "s/x",
      );
      assert.equal(chunks, 3);
      assert.equal(gw2.engine.health.inFlight("s"), 0);
    } finally {
      await gw2.close();
      await stalling.close();
    }
  });

  test("an upstream error event mid-stream is thrown once, redacted, and ends the upstream call", async () => {
    const leaky = await startLeakyUpstream();
    const gw2 = await createGateway({
      providers: { leaky: { type: "openai", base_url: leaky.url, api_key: CANARY, timeouts: { idle: "300ms" } } },
      models: { m: { targets: ["leaky/x"], retry: { attempts: 1 } } },
    });
    try {
      const stream = await gw2.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
      const seen: string[] = [];
      let thrown: unknown;
      try {
        for await (const chunk of stream) seen.push(String(chunk.choices[0].delta.content));
      } catch (err) {
        thrown = err;
      }
      assert.deepEqual(seen, ["one", "two"], "the chunks before the error, none after it");
      assert.ok(thrown instanceof GatewayError, `a GatewayError, not ${String(thrown)}`);
      assert.equal(thrown.code, "SY_ERR_UPSTREAM_STATUS");
      assert.equal(thrown.status, 401);
      const shown = JSON.stringify({ message: thrown.message, upstream: thrown.upstream });
      assert.ok(!shown.includes(CANARY), `the key leaked: ${shown}`);
      assert.match(thrown.message, /\[redacted\]/);
      assert.equal(thrown.upstream?.param, "[redacted]");
      assert.equal(await leaky.closed(), true, "the upstream request is aborted");
      assert.equal(gw2.engine.health.inFlight("leaky"), 0);
    } finally {
      await gw2.close();
      await leaky.close();
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

describe("in-process stream lifecycle: every way of letting go releases the upstream", () => {
  let slow: MockUpstream;
  let clock: FakeClock;
  let gw: Gateway;
  const IDLE = 5000;
  const open = (opts?: { signal?: AbortSignal }) =>
    gw.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }, opts);
  before(async () => {
    slow = await startMockUpstream({ tokens: 1000, tokensPerSecond: 200 });
    clock = new FakeClock();
    gw = await createGateway(
      {
        providers: { s: { type: "openai", base_url: slow.url, timeouts: { idle: "5s", total: "0s" } } },
        models: { m: { targets: ["s/x"], retry: { attempts: 1 } } },
      },
      { clock },
    );
  });
  after(async () => {
    await gw.close();
    await slow.close();
  });

  test("a stream that is never read is released after the idle timeout", async () => {
    const stream = await open();
    const aborted = once(slow, "abort");
    assert.equal(gw.engine.health.inFlight("s"), 1);
    clock.advance(IDLE - 1);
    assert.equal(gw.engine.health.inFlight("s"), 1, "still held just before the idle timeout");
    clock.advance(1);
    assert.equal(gw.engine.health.inFlight("s"), 0);
    await aborted;
    await assert.rejects(
      async () => {
        for await (const _ of stream);
      },
      (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_STREAM_ABANDONED",
    );
  });

  test("each read starts the idle timeout again", async () => {
    const stream = await open();
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    clock.advance(IDLE - 1000);
    await it.next();
    clock.advance(IDLE - 1000);
    assert.equal(gw.engine.health.inFlight("s"), 1, "read within the idle timeout each time");
    const aborted = once(slow, "abort");
    clock.advance(1000);
    assert.equal(gw.engine.health.inFlight("s"), 0);
    await aborted;
  });

  test("return() on an iterator never read from releases it", async () => {
    const stream = await open();
    const aborted = once(slow, "abort");
    await stream[Symbol.asyncIterator]().return?.();
    await aborted;
    assert.equal(gw.engine.health.inFlight("s"), 0);
  });

  test("breaking out of the loop releases it", async () => {
    const stream = await open();
    const aborted = once(slow, "abort");
    for await (const _ of stream) break;
    await aborted;
    assert.equal(gw.engine.health.inFlight("s"), 0);
  });

  test("the signal releases a stream nobody is reading, and a later read says why", async () => {
    const ac = new AbortController();
    const stream = await open({ signal: ac.signal });
    const aborted = once(slow, "abort");
    ac.abort();
    await aborted;
    assert.equal(gw.engine.health.inFlight("s"), 0);
    await assert.rejects(
      async () => {
        for await (const _ of stream);
      },
      (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_CLIENT_ABORT",
    );
  });

  test("await using releases it at the end of the block, read or not", async () => {
    let aborts = 0;
    const count = () => aborts++;
    slow.on("abort", count);
    try {
      {
        await using stream = await open();
        await stream[Symbol.asyncIterator]().next();
      }
      {
        await using _unread = await open();
        assert.equal(gw.engine.health.inFlight("s"), 1);
      }
      assert.equal(gw.engine.health.inFlight("s"), 0);
      while (aborts < 2) await once(slow, "abort");
    } finally {
      slow.off("abort", count);
    }
  });
});
