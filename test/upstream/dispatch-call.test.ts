import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Dispatcher } from "undici";
import { DispatchCall } from "../../src/upstream/dispatch-call.ts";
import type { BodyListener } from "../../src/upstream/transport.ts";
import { FakeController } from "../helpers/fake-controller.ts";


/** A consumer that records what it is given, in order, and says "full" on demand. */
class Recorder implements BodyListener {
  log: string[] = [];
  full = false;
  data(chunk: Uint8Array): boolean {
    this.log.push(Buffer.from(chunk).toString());
    return !this.full;
  }
  end(): void {
    this.log.push("end");
  }
  error(err: unknown): void {
    this.log.push(`error: ${(err as Error).message}`);
  }
}

async function started() {
  const call = new DispatchCall(new AbortController().signal);
  const ctl = new FakeController();
  const c = ctl as unknown as Dispatcher.DispatchController;
  call.onRequestStart(c);
  call.onResponseStart(c, 200, { "content-type": "text/event-stream" });
  await call.response;
  return { call, ctl, c, data: (s: string) => call.onResponseData(c, Buffer.from(s)) };
}

describe("DispatchCall pushing to a listener", () => {
  test("a chunk that arrives while queued chunks wait for a full consumer goes behind them, and the upstream pauses", async () => {
    const { call, ctl, data } = await started();
    data("1");
    data("2");
    data("3");
    const consumer = new Recorder();
    consumer.full = true;
    call.subscribe(consumer);
    assert.deepEqual(consumer.log, ["1"], "a full consumer gets one chunk, the rest stays queued");
    assert.equal(ctl.paused, true, "the upstream is paused while the consumer is full");
    data("4");
    assert.deepEqual(consumer.log, ["1"], "not delivered ahead of 2 and 3");
    consumer.full = false;
    call.resume();
    assert.deepEqual(consumer.log, ["1", "2", "3", "4"]);
    assert.equal(ctl.paused, false, "resumed once everything queued is delivered");
    data("5");
    assert.deepEqual(consumer.log, ["1", "2", "3", "4", "5"], "straight through again");
  });

  test("a consumer that fills up again while the queue drains keeps the upstream paused", async () => {
    const { call, ctl, data } = await started();
    data("1");
    data("2");
    data("3");
    const consumer = new Recorder();
    consumer.full = true;
    call.subscribe(consumer);
    call.resume();
    assert.deepEqual(consumer.log, ["1", "2"]);
    assert.equal(ctl.paused, true);
    data("4");
    consumer.full = false;
    call.resume();
    assert.deepEqual(consumer.log, ["1", "2", "3", "4"]);
    assert.equal(ctl.paused, false);
  });

  test("the end is reported only after every queued chunk", async () => {
    const { call, data } = await started();
    data("1");
    data("2");
    data("3");
    const consumer = new Recorder();
    consumer.full = true;
    call.subscribe(consumer);
    call.onResponseEnd();
    assert.deepEqual(consumer.log, ["1"], "not ended with chunks still queued");
    consumer.full = false;
    call.resume();
    assert.deepEqual(consumer.log, ["1", "2", "3", "end"]);
  });

  test("a failure is reported only after every queued chunk", async () => {
    const { call, c, data } = await started();
    data("1");
    data("2");
    const consumer = new Recorder();
    consumer.full = true;
    call.subscribe(consumer);
    call.onResponseError(c, new Error("other side closed"));
    assert.deepEqual(consumer.log, ["1"]);
    consumer.full = false;
    call.resume();
    assert.deepEqual(consumer.log, ["1", "2", "error: other side closed"]);
  });

  test("with nothing queued, a full consumer still learns of the end at once", async () => {
    const { call, ctl, data } = await started();
    const consumer = new Recorder();
    call.subscribe(consumer);
    consumer.full = true;
    data("1");
    assert.equal(ctl.paused, true);
    call.onResponseEnd();
    assert.deepEqual(consumer.log, ["1", "end"]);
  });

  test("chunks undici delivers after a pause are queued and come next", async () => {
    const { call, ctl, data } = await started();
    const consumer = new Recorder();
    call.subscribe(consumer);
    consumer.full = true;
    data("1");
    assert.equal(ctl.paused, true);
    data("2");
    assert.deepEqual(consumer.log, ["1"]);
    consumer.full = false;
    call.resume();
    data("3");
    call.onResponseEnd();
    assert.deepEqual(consumer.log, ["1", "2", "3", "end"]);
  });
});
