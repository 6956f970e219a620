import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Dispatcher } from "undici";
import { RelayStream } from "../../src/engine/relay.ts";
import type { ByteSink } from "../../src/engine/types.ts";
import type { GatewayError } from "../../src/protocol/errors.ts";
import { DispatchCall } from "../../src/upstream/dispatch-call.ts";

const ev = (n: number) => `data: {"n":${n}}\n\n`;

/** A client socket stand-in: records writes, reports "full" on demand, and can close. */
class FakeSink implements ByteSink {
  written: string[] = [];
  ended = false;
  closed = false;
  full = false;
  #drain: (() => void)[] = [];
  #close: (() => void)[] = [];
  write(chunk: Uint8Array): boolean {
    this.written.push(Buffer.from(chunk).toString());
    return !this.full;
  }
  end(): void {
    this.ended = true;
  }
  onDrain(fn: () => void): void {
    this.#drain.push(fn);
  }
  onClose(fn: () => void): void {
    this.#close.push(fn);
  }
  drain(): void {
    this.full = false;
    for (const fn of this.#drain.splice(0)) fn();
  }
  hangUp(): void {
    this.closed = true;
    for (const fn of this.#close.splice(0)) fn();
  }
  get text(): string {
    return this.written.join("");
  }
}

/** undici's side of a dispatch, enough to drive a DispatchCall by hand. */
class FakeController {
  paused = false;
  aborted: Error | undefined;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  abort(reason: Error) {
    this.aborted = reason;
  }
}

async function started(signal = new AbortController().signal) {
  const call = new DispatchCall(signal);
  const ctl = new FakeController();
  const c = ctl as unknown as Dispatcher.DispatchController;
  call.onRequestStart(c);
  call.onResponseStart(c, 200, { "content-type": "text/event-stream" });
  await call.response;
  return { call, ctl, c, data: (s: string) => call.onResponseData(c, Buffer.from(s)) };
}

function relayOf(call: DispatchCall, head: string, signal = new AbortController().signal) {
  const ends: { completed: boolean; err?: GatewayError }[] = [];
  const stream = new RelayStream(Buffer.from(head), call, signal, "p/m", (completed, err) => ends.push({ completed, err }));
  return { stream, ends };
}

describe("relay into a sink (push mode)", () => {
  test("chunks go straight through, partial events are held back until whole", async () => {
    const { call, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    assert.deepEqual(sink.written, [ev(0)]);
    data(ev(1).slice(0, 5));
    assert.equal(sink.written.length, 1, "half an event is not released");
    data(ev(1).slice(5) + ev(2));
    assert.deepEqual(sink.written, [ev(0), ev(1) + ev(2)]);
    call.onResponseEnd();
    await done;
    assert.equal(sink.ended, true);
    assert.deepEqual(ends, [{ completed: true, err: undefined }]);
  });

  test("a full sink pauses the upstream socket until it drains, and nothing is lost", async () => {
    const { call, ctl, data } = await started();
    const { stream } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    sink.full = true;
    data(ev(1));
    assert.equal(ctl.paused, true, "the upstream is paused while the client is full");
    // undici may still deliver what it already parsed; it is queued, not written.
    data(ev(2));
    assert.deepEqual(sink.written, [ev(0), ev(1)]);
    sink.drain();
    assert.equal(ctl.paused, false, "resumed once the client drained");
    assert.deepEqual(sink.written, [ev(0), ev(1), ev(2)]);
    data(ev(3));
    call.onResponseEnd();
    await done;
    assert.equal(sink.text, [0, 1, 2, 3].map(ev).join(""));
  });

  test("a failure while the client is full comes after the chunks queued before it", async () => {
    const { call, c, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    sink.full = true;
    data(ev(1));
    data(ev(2));
    call.onResponseError(c, Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    assert.equal(ends.length, 0, "not reported while the client still has queued events to take");
    sink.drain();
    await done;
    assert.equal(sink.written.slice(0, 3).join(""), ev(0) + ev(1) + ev(2));
    assert.match(sink.written[3], /"code":"SY_ERR_/);
    assert.equal(ends[0].completed, false);
  });

  test("an upstream failure mid-stream ends with whole events and one error event", async () => {
    const { call, c, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    data(ev(1) + 'data: {"n":');
    call.onResponseError(c, Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    await done;
    const last = JSON.parse(sink.written.at(-1)!.slice(6)) as { error: { code: string } };
    assert.equal(sink.written.slice(0, -1).join(""), ev(0) + ev(1), "the half event is dropped");
    assert.match(last.error.code, /^SY_ERR_/);
    assert.equal(ends.length, 1);
    assert.equal(ends[0].completed, false);
    assert.equal(ends[0].err?.code, last.error.code);
    assert.equal(sink.ended, true);
  });

  test("a client that hangs up aborts the upstream and reports an incomplete stream once", async () => {
    const { call, ctl, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    data(ev(1));
    sink.hangUp();
    await done;
    assert.ok(ctl.aborted, "the upstream request is aborted");
    data(ev(2));
    call.onResponseEnd();
    assert.deepEqual(ends, [{ completed: false, err: undefined }]);
    assert.equal(sink.written.length, 2, "nothing is written after the client left");
  });

  test("chunks that arrived before the relay subscribed are delivered first, in order", async () => {
    const { call, data } = await started();
    data(ev(1));
    data(ev(2));
    const { stream } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    data(ev(3));
    call.onResponseEnd();
    await done;
    assert.equal(sink.text, [0, 1, 2, 3].map(ev).join(""));
  });

  test("a client already full after the first write gets nothing more until it drains", async () => {
    const { call, ctl, data } = await started();
    data(ev(1));
    data(ev(2));
    const { stream } = relayOf(call, ev(0));
    const sink = new FakeSink();
    sink.full = true;
    const done = stream.pipeTo(sink);
    assert.deepEqual(sink.written, [ev(0)], "the queued chunks wait for the drain");
    data(ev(3));
    assert.deepEqual(sink.written, [ev(0)]);
    sink.drain();
    assert.deepEqual(sink.written, [ev(0), ev(1), ev(2), ev(3)]);
    assert.equal(ctl.paused, false);
    call.onResponseEnd();
    await done;
    assert.equal(sink.text, [0, 1, 2, 3].map(ev).join(""));
  });

  test("a stream that already ended before the relay subscribed still completes", async () => {
    const { call, data } = await started();
    data(ev(1));
    call.onResponseEnd();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    await stream.pipeTo(sink);
    assert.equal(sink.text, ev(0) + ev(1));
    assert.deepEqual(ends, [{ completed: true, err: undefined }]);
  });

  test("a stream can be read only once", async () => {
    const { call } = await started();
    const { stream } = relayOf(call, ev(0));
    void stream.pipeTo(new FakeSink());
    assert.throws(() => stream[Symbol.asyncIterator](), /only once/);
  });
});

describe("relay by iteration (pull mode)", () => {
  test("yields whole events and completes", async () => {
    const { call, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const it = stream[Symbol.asyncIterator]();
    assert.equal(Buffer.from((await it.next()).value as Uint8Array).toString(), ev(0));
    const next = it.next();
    data(ev(1));
    assert.equal(Buffer.from((await next).value as Uint8Array).toString(), ev(1));
    call.onResponseEnd();
    assert.equal((await it.next()).done, true);
    assert.deepEqual(ends, [{ completed: true, err: undefined }]);
  });
});
