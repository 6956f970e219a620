import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Dispatcher } from "undici";
import { RelayStream } from "../../src/engine/relay.ts";
import type { ByteSink } from "../../src/engine/types.ts";
import { GatewayError } from "../../src/protocol/errors.ts";
import { DispatchCall } from "../../src/upstream/dispatch-call.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { FakeController } from "../helpers/fake-controller.ts";

const ev = (n: number) => `data: {"n":${n}}\n\n`;

/** A client socket stand-in: records writes, reports "full" on demand, and can close. */
class FakeSink implements ByteSink {
  written: string[] = [];
  ended = false;
  failure: GatewayError | undefined;
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
  fail(err: GatewayError): void {
    this.failure = err;
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


async function started(signal = new AbortController().signal) {
  const call = new DispatchCall(signal);
  const ctl = new FakeController();
  const c = ctl as unknown as Dispatcher.DispatchController;
  call.onRequestStart(c);
  call.onResponseStart(c, 200, { "content-type": "text/event-stream" });
  await call.response;
  return { call, ctl, c, data: (s: string) => call.onResponseData(c, Buffer.from(s)) };
}

function relayOf(call: DispatchCall, head: string, opts: { signal?: AbortSignal; clock?: FakeClock; idleMs?: number } = {}) {
  const ends: { completed: boolean; err?: GatewayError }[] = [];
  const stream = new RelayStream(Buffer.from(head), call, {
    signal: opts.signal ?? new AbortController().signal,
    label: "p/m",
    secrets: [SECRET],
    clock: opts.clock ?? new FakeClock(),
    idleMs: opts.idleMs ?? 0,
    onEnd: (completed, err) => ends.push({ completed, err }),
  });
  return { stream, ends };
}

const SECRET = "canary-0a1b2c3d4e";
const errorEvent = (extra = "") => `data: {"error":{"message":"bad key ${SECRET}","type":"t ${SECRET}","code":"c_${SECRET}","param":"${SECRET}"${extra}}}\n\n`;

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
    assert.equal(sink.text, ev(0) + ev(1) + ev(2));
    assert.match(sink.failure?.code ?? "", /^SY_ERR_/, "then the failure, for the front to write");
    assert.equal(ends[0].completed, false);
  });

  test("an upstream failure mid-stream ends with whole events and the failure handed to the sink", async () => {
    const { call, c, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    data(ev(1) + 'data: {"n":');
    call.onResponseError(c, Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    await done;
    assert.equal(sink.text, ev(0) + ev(1), "the half event is dropped, and the relay writes no error of its own");
    assert.ok(sink.failure instanceof GatewayError);
    assert.equal(sink.failure.code, "SY_ERR_UPSTREAM_RESET");
    assert.deepEqual(ends, [{ completed: false, err: sink.failure }]);
    assert.equal(sink.ended, true);
  });

  test("an upstream error event stops the stream: the events before it pass, it becomes the one failure, redacted", async () => {
    const { call, ctl, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    data(ev(1) + errorEvent(',"status":429') + ev(2));
    data(ev(3));
    await done;
    assert.equal(sink.text, ev(0) + ev(1), "nothing after the error event");
    const f = sink.failure!;
    assert.equal(f.code, "SY_ERR_UPSTREAM_STATUS");
    assert.equal(f.status, 429, "the status the event gave");
    assert.equal(f.message, "bad key [redacted]");
    assert.deepEqual(f.upstream, { type: "t [redacted]", code: "c_[redacted]", param: "[redacted]" });
    assert.ok(ctl.aborted, "the upstream request is aborted");
    assert.deepEqual(ends, [{ completed: false, err: f }]);
  });

  test("an error event in the head, split across chunks, or in the tail is caught too", async () => {
    for (const [head, chunks] of [
      [ev(0) + errorEvent(), [] as string[]],
      [ev(0), [errorEvent().slice(0, 20), errorEvent().slice(20)]],
      [ev(0), [errorEvent().slice(0, -2)]],
    ] as const) {
      const { call, data } = await started();
      const { stream } = relayOf(call, head);
      const sink = new FakeSink();
      const done = stream.pipeTo(sink);
      for (const c of chunks) data(c);
      call.onResponseEnd();
      await done;
      assert.equal(sink.text, ev(0));
      assert.equal(sink.failure?.code, "SY_ERR_UPSTREAM_STATUS");
      assert.equal(sink.failure?.status, 502, "no status in the event: 502");
    }
  });

  test("events that only mention an error pass untouched", async () => {
    const { call, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const sink = new FakeSink();
    const done = stream.pipeTo(sink);
    const mention = 'data: {"choices":[{"delta":{"content":"an \\"error\\": here"}}]}\n\n';
    const nullError = 'data: {"error":null,"n":5}\n\n';
    data(mention + nullError);
    call.onResponseEnd();
    await done;
    assert.equal(sink.text, ev(0) + mention + nullError);
    assert.deepEqual(ends, [{ completed: true, err: undefined }]);
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
    assert.equal(ends.length, 1);
    assert.equal(ends[0].completed, false);
    assert.equal(ends[0].err?.code, "SY_ERR_CLIENT_ABORT");
    assert.equal(sink.written.length, 2, "nothing is written after the client left");
    assert.equal(sink.failure, undefined, "no error is written to a client that left");
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

const text = (r: IteratorResult<Uint8Array>) => Buffer.from(r.value as Uint8Array).toString();

describe("relay by iteration (pull mode)", () => {
  test("a failure is thrown after the whole events before it, once", async () => {
    const { call, c, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const it = stream[Symbol.asyncIterator]();
    assert.equal(text(await it.next()), ev(0));
    data(ev(1) + 'data: {"n":');
    assert.equal(text(await it.next()), ev(1));
    const read = it.next();
    call.onResponseError(c, Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    await assert.rejects(read, (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_UPSTREAM_RESET");
    assert.equal((await it.next()).done, true);
    assert.equal(ends.length, 1);
    assert.equal(ends[0].err?.code, "SY_ERR_UPSTREAM_RESET");
  });

  test("an upstream error event: the events before it, then it is thrown, redacted", async () => {
    const { call, ctl, data } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const it = stream[Symbol.asyncIterator]();
    assert.equal(text(await it.next()), ev(0));
    data(ev(1) + errorEvent() + ev(2));
    assert.equal(text(await it.next()), ev(1));
    await assert.rejects(it.next(), (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_UPSTREAM_STATUS" && !err.message.includes(SECRET));
    assert.ok(ctl.aborted);
    assert.equal(ends.length, 1);
  });

  test("return() before any read releases the upstream as a client abort", async () => {
    const { call, ctl } = await started();
    const { stream, ends } = relayOf(call, ev(0));
    const it = stream[Symbol.asyncIterator]();
    await it.return!();
    assert.ok(ctl.aborted);
    assert.equal(ends[0].err?.code, "SY_ERR_CLIENT_ABORT");
    assert.equal((await it.next()).done, true);
  });

  test("the signal releases a stream nobody is reading; the next read throws its reason", async () => {
    const { call, ctl } = await started();
    const ac = new AbortController();
    const { stream, ends } = relayOf(call, ev(0), { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    ac.abort(new GatewayError("SY_ERR_TOTAL_TIMEOUT", "total"));
    assert.ok(ctl.aborted);
    assert.equal(ends[0].err?.code, "SY_ERR_TOTAL_TIMEOUT");
    await assert.rejects(it.next(), (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_TOTAL_TIMEOUT");
  });

  test("not read for the idle timeout, it is released as abandoned; reading keeps it", async () => {
    const { call, ctl, data } = await started();
    const clock = new FakeClock();
    const { stream, ends } = relayOf(call, ev(0), { clock, idleMs: 1000 });
    const it = stream[Symbol.asyncIterator]();
    clock.advance(900);
    await it.next();
    clock.advance(900);
    const read = it.next();
    clock.advance(5000);
    assert.equal(ends.length, 0, "a reader waiting on the upstream is not idle");
    data(ev(1));
    assert.equal(text(await read), ev(1));
    clock.advance(999);
    assert.equal(ends.length, 0);
    clock.advance(1);
    assert.equal(ends[0].err?.code, "SY_ERR_STREAM_ABANDONED");
    assert.ok(ctl.aborted);
    await assert.rejects(it.next(), (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_STREAM_ABANDONED");
    assert.deepEqual(clock.pending(), [], "no timer left behind");
  });

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
