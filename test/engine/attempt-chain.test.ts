/** The attempt chain (wrappers around one upstream attempt) and the events published on diagnostics channels. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createGateway } from "../../src/engine/create.ts";
import { type AttemptFn, composeAttempt } from "../../src/engine/attempt-chain.ts";
import type { Committed } from "../../src/engine/attempt.ts";
import { GatewayError } from "../../src/protocol/errors.ts";
import { HostileUpstream } from "../helpers/hostile-upstream.ts";
import { closedPort } from "../server/util.ts";

test("composeAttempt: the first wrapper sees the call first and the outcome last", async () => {
  const order: string[] = [];
  const inner: AttemptFn = async () => {
    order.push("inner");
    return { status: 200, contentType: "application/json", body: Buffer.from("{}"), usage: () => undefined } satisfies Committed;
  };
  const wrap = (name: string) => (next: AttemptFn): AttemptFn => async (call) => {
    order.push(`${name}>`);
    const r = await next(call);
    order.push(`<${name}`);
    return r;
  };
  const fn = composeAttempt(inner, [wrap("a"), wrap("b")]);
  await fn({} as never);
  assert.deepEqual(order, ["a>", "b>", "inner", "<b", "<a"]);
  assert.equal(composeAttempt(inner, []), inner);
});

const NAMES = ["request:start", "request:end", "attempt:start", "attempt:end", "stream:end"] as const;

/** Records every event of every channel, in order. */
function record() {
  const events: Array<{ name: string; m: Record<string, unknown> }> = [];
  const handlers = NAMES.map((name) => {
    const fn = (m: unknown) => events.push({ name, m: m as Record<string, unknown> });
    subscribe(`switchyard:${name}`, fn);
    return () => unsubscribe(`switchyard:${name}`, fn);
  });
  return { events, stop: () => handlers.forEach((h) => h()) };
}

describe("events on diagnostics channels", () => {
  const SECRET = "tok-EVENTS-secret-0123456789";
  let upstream: HostileUpstream;
  let dead: number;
  before(async () => {
    upstream = await new HostileUpstream().listen();
    dead = await closedPort();
  });
  after(() => upstream.close());

  const gateway = () =>
    createGateway({
      providers: {
        up: { type: "openai", base_url: upstream.url, api_key: SECRET },
        dead: { type: "openai", base_url: `http://127.0.0.1:${dead}/v1`, api_key: "k" },
      },
      models: {
        chat: { targets: [{ provider: "dead", model: "x" }, { provider: "up", model: "ok", priority: 1 }], retry: { attempts: 2, base_delay: 1, max_delay: 1 } },
      },
    });

  test("a request that fails over publishes start, both attempts and end, in order, each tagged with its gateway", async () => {
    const gw = await gateway();
    const other = await gateway();
    const rec = record();
    try {
      await gw.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }, { requestId: "r-1" });
      const mine = rec.events.filter((e) => e.m.gateway === gw.engine);
      assert.deepEqual(
        mine.map((e) => `${e.name} ${e.m.target ?? e.m.model}`),
        ["request:start chat", "attempt:start dead/x", "attempt:end dead/x", "attempt:start up/ok", "attempt:end up/ok", "request:end up/ok"],
      );
      assert.ok(mine.every((e) => e.m.requestId === "r-1"));
      const failed = mine[2].m.error as { code: string; retryable: boolean };
      assert.equal(failed.code, "SY_ERR_UPSTREAM_CONNECT");
      assert.equal(failed.retryable, true);
      assert.equal(mine[4].m.error, undefined);
      assert.equal(mine[5].m.status, 200);
      assert.equal(mine[5].m.attempts, 2);
      assert.equal(rec.events.filter((e) => e.m.gateway === other.engine).length, 0);
    } finally {
      rec.stop();
      await gw.close();
      await other.close();
    }
  });

  test("a stream's attempt ends at commit and its end comes as stream:end, then request:end", async () => {
    const gw = await gateway();
    const rec = record();
    try {
      // The raw byte stream, read to its end (the chunk client stops at [DONE]).
      const { stream } = await gw.request("chat", { model: "up/ok", stream: true, messages: [{ role: "user", content: "hi" }] });
      const before = rec.events.map((e) => e.name);
      assert.deepEqual(before, ["request:start", "attempt:start", "attempt:end"]);
      assert.equal(rec.events[2].m.streaming, true);
      for await (const _ of stream!);
      assert.deepEqual(rec.events.slice(3).map((e) => e.name), ["stream:end", "request:end"]);
      assert.equal(rec.events[3].m.completed, true);
    } finally {
      rec.stop();
      await gw.close();
    }
  });

  test("a failed attempt's error is redacted before anyone sees it", async () => {
    const gw = await gateway();
    const rec = record();
    try {
      await assert.rejects(gw.chat.completions.create({ model: "up/echo-fields", messages: [{ role: "user", content: "hi" }] }), GatewayError);
      const end = rec.events.find((e) => e.name === "attempt:end")!;
      const error = end.m.error as { message: string };
      assert.match(error.message, /\[redacted\]/);
      assert.ok(!JSON.stringify(rec.events.map((e) => ({ ...e.m, gateway: undefined }))).includes("EVENTS-secret"));
    } finally {
      rec.stop();
      await gw.close();
    }
  });

  test("after close, a gateway no longer counts traffic", async () => {
    const gw = await gateway();
    await gw.close();
    // Nothing left subscribed by it: its health would otherwise keep counting other gateways' events.
    const rec = record();
    rec.stop();
    assert.equal((await gw.health()).up.in_flight, 0);
  });
});
