/** The FIFO slot queue behind limits.concurrency and server.max_in_flight, alone. */
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { test } from "node:test";
import type { QueueEvent } from "../../src/limits/events.ts";
import { SlotQueue } from "../../src/limits/queue.ts";
import { LocalSlots, SharedSlots } from "../../src/limits/slots.ts";
import { GatewayError } from "../../src/protocol/errors.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const gateway = {};
const queue = (limit: number, clock = new FakeClock()) => new SlotQueue("provider:p", 'provider "p"', limit, new LocalSlots(), clock, gateway);

test("slots are taken up to the limit, then requests wait and are admitted in arrival order", async () => {
  const clock = new FakeClock();
  const q = queue(2, clock);
  assert.equal(q.tryAcquire(), true);
  assert.equal(q.tryAcquire(), true);
  assert.equal(q.tryAcquire(), false);
  const order: string[] = [];
  const signal = new AbortController().signal;
  const waiting = ["a", "b", "c"].map((name) => q.acquire(signal, clock.now() + 60_000).then(() => order.push(name)));
  assert.equal(q.queued, 3);
  q.release(10);
  await waiting[0];
  q.release(10);
  await waiting[1];
  assert.deepEqual(order, ["a", "b"]);
  // A slot given back while someone waits goes to them: a newcomer cannot take it first.
  assert.equal(q.tryAcquire(), false);
  q.release(10);
  await waiting[2];
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(q.report().in_flight, 2);
  q.release(10);
  q.release(10);
  assert.deepEqual({ ...q.report(), wait_ms_last: 0, wait_ms_max: 0 }, { limit: 2, in_flight: 0, queued: 0, waited: 3, timeouts: 0, wait_ms_last: 0, wait_ms_max: 0 });
});

test("a waiter still queued at its deadline gets a retryable 503 with Retry-After, and leaves the queue", async () => {
  const clock = new FakeClock();
  const q = queue(1, clock);
  assert.equal(q.tryAcquire(), true);
  q.release(4000); // one slot held for 4 s: the hold time Retry-After is estimated from
  assert.equal(q.tryAcquire(), true);
  const pending = q.acquire(new AbortController().signal, clock.now() + 5000);
  clock.advance(4999);
  assert.equal(q.queued, 1);
  clock.advance(1);
  const err = await pending.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof GatewayError);
  assert.equal(err.code, "SY_ERR_QUEUE_TIMEOUT");
  assert.equal(err.status, 503);
  assert.equal(err.retryable, true);
  assert.equal(err.skipped, true);
  assert.equal(err.retryAfterMs, 4000);
  assert.match(err.message, /waited 5000 ms for one of the 1 slots of provider "p"/);
  assert.equal(q.queued, 0);
  assert.equal(q.report().timeouts, 1);
  assert.deepEqual(clock.pending(), [], "no timer left behind");
});

test("a waiter whose request is aborted leaves the queue at once, and the next one moves up", async () => {
  const clock = new FakeClock();
  const q = queue(1, clock);
  q.tryAcquire();
  const leaving = new AbortController();
  const first = q.acquire(leaving.signal, clock.now() + 60_000);
  const second = q.acquire(new AbortController().signal, clock.now() + 60_000);
  assert.equal(q.queued, 2);
  const reason = new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the request");
  leaving.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  assert.equal(q.queued, 1);
  q.release(1);
  await second;
  assert.equal(q.queued, 0);
  assert.deepEqual(clock.pending(), []);
});

test("a deadline already past fails at once; an aborted signal too", async () => {
  const clock = new FakeClock();
  const q = queue(1, clock);
  q.tryAcquire();
  await assert.rejects(q.acquire(new AbortController().signal, clock.now()), { code: "SY_ERR_QUEUE_TIMEOUT" });
  const ac = new AbortController();
  ac.abort(new GatewayError("SY_ERR_CLIENT_ABORT", "gone"));
  await assert.rejects(q.acquire(ac.signal, clock.now() + 1000), { code: "SY_ERR_CLIENT_ABORT" });
  assert.equal(q.queued, 0);
});

test("waits, admissions, timeouts and departures are published on switchyard:queue", async () => {
  const events: QueueEvent[] = [];
  const fn = (m: unknown) => {
    if ((m as QueueEvent).gateway === gateway) events.push(m as QueueEvent);
  };
  subscribe("switchyard:queue", fn);
  try {
    const clock = new FakeClock();
    const q = queue(1, clock);
    q.tryAcquire();
    const admitted = q.acquire(new AbortController().signal, clock.now() + 10_000);
    const timedOut = q.acquire(new AbortController().signal, clock.now() + 3000).catch(() => "timeout");
    const ac = new AbortController();
    const left = q.acquire(ac.signal, clock.now() + 10_000).catch(() => "left");
    clock.advance(1000);
    ac.abort(new Error("gone"));
    clock.advance(1000);
    q.release(2000);
    await admitted;
    clock.advance(1000);
    assert.equal(await timedOut, "timeout");
    assert.equal(await left, "left");
    assert.deepEqual(
      events.map((e) => `${e.event} ${e.queued} ${e.waitedMs ?? "-"}`),
      ["wait 1 -", "wait 2 -", "wait 3 -", "leave 2 1000", "admit 1 2000", "timeout 0 3000"],
    );
    assert.ok(events.every((e) => e.queue === "provider:p"));
  } finally {
    unsubscribe("switchyard:queue", fn);
  }
});

test("shared slots hold one limit across workers: a slot given back in one wakes a waiter in another", async () => {
  const buffer = new SharedArrayBuffer(4 * 4);
  const view = () => new Int32Array(buffer);
  const clock = new FakeClock();
  // Two workers' queues for the same limit, each with its own view of the slot (index 2).
  const a = new SlotQueue("provider:p", 'provider "p"', 2, new SharedSlots(view(), 2), clock, gateway);
  const b = new SlotQueue("provider:p", 'provider "p"', 2, new SharedSlots(view(), 2), clock, gateway);
  assert.equal(a.tryAcquire(), true);
  assert.equal(b.tryAcquire(), true);
  assert.equal(a.tryAcquire(), false, "the limit counts both workers' slots");
  assert.equal(b.tryAcquire(), false);
  const waiting = b.acquire(new AbortController().signal, clock.now() + 60_000);
  assert.equal(b.queued, 1);
  a.release(5);
  await waiting;
  assert.equal(b.queued, 0);
  assert.equal(new Int32Array(buffer)[2], 2, "the waiter in the other worker holds the slot given back");
  a.release(5);
  b.release(5);
  assert.equal(new Int32Array(buffer)[2], 0);
  assert.deepEqual([...new Int32Array(buffer)].filter((_, i) => i !== 2), [0, 0, 0], "other slots untouched");
});
