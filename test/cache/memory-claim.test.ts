import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { AnswerStore } from "../../src/cache/answer-store.ts";
import { claimMemory, type MemoryClaim } from "../../src/cache/memory-claim.ts";
import { type CacheDeps, ResponseCache } from "../../src/cache/response-cache.ts";
import type { Answer } from "../../src/cache/types.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const MB = 1024 * 1024;

/** This process's resident memory in bytes, where the system says (Linux). */
function resident(): number | undefined {
  try {
    const pages = Number(readFileSync("/proc/self/statm", "utf8").split(" ")[1]);
    return pages * 4096;
  } catch {
    return undefined;
  }
}

describe("claiming the cache's memory ahead", () => {
  test("gives every page its memory and leaves what was written as it is", async (t) => {
    const buffers = [new SharedArrayBuffer(16 * MB), new SharedArrayBuffer(16 * MB + 3)];
    const views = buffers.map((b) => Buffer.from(b));
    // Bytes on the very words the claim adds 0 to (every 4 KB) and between them.
    views[0].write("first", 0);
    views[1].write("at a page", 4096);
    views[1].write("last", 16 * MB - 1);
    const before = resident();
    const failures: Error[] = [];
    const claim = claimMemory(buffers, (err) => failures.push(err));
    // Written while the claim runs, from this thread.
    views[0].write("meanwhile", 8 * MB);
    await claim.done;
    assert.deepEqual(failures, []);
    assert.equal(views[0].toString("utf8", 0, 5), "first");
    assert.equal(views[0].toString("utf8", 8 * MB, 8 * MB + 9), "meanwhile");
    assert.equal(views[1].toString("utf8", 4096, 4105), "at a page");
    assert.equal(views[1].toString("utf8", 16 * MB - 1, 16 * MB + 3), "last");
    assert.equal(views[1].readUInt32LE(12 * MB), 0, "untouched bytes are still zero");
    const after = resident();
    if (before === undefined || after === undefined) {
      t.diagnostic("no /proc/self/statm here: resident memory not checked");
      return;
    }
    assert.ok(after - before >= 24 * MB, `resident memory grew by ${((after - before) / MB).toFixed(1)} MB for 32 MB claimed`);
  });

  test("stop ends a claim under way, and done settles", async () => {
    const claim = claimMemory([new SharedArrayBuffer(64 * MB)], () => {});
    await claim.stop();
    await claim.done;
  });

  test("the store hands its slabs to the claim once, with its first entry, as shared memory covering the ring", () => {
    const handed: SharedArrayBuffer[][] = [];
    const s = new AnswerStore(40 * MB, { removed() {} }, (slabs) => handed.push(slabs));
    assert.equal(handed.length, 0, "nothing is allocated before an entry is stored");
    const entry = (fp: number) => ({
      fp,
      op: "chat",
      tenant: "",
      form: "",
      request: Buffer.from(`{"n":${fp}}`),
      model: "m",
      head: { status: 200, contentType: "application/json", target: "p/m", attempts: [] },
      body: Buffer.from(`{"answer":${fp}}`),
      chunks: [],
      storedAt: 0,
      expiresAt: Number.POSITIVE_INFINITY,
    });
    assert.equal(s.put(entry(1)), true);
    assert.equal(s.put(entry(2)), true);
    assert.equal(handed.length, 1);
    assert.equal(handed[0].length, 3, "40 MB in slabs of at most 16 MB");
    assert.ok(handed[0].every((b) => b instanceof SharedArrayBuffer));
    const total = handed[0].reduce((n, b) => n + b.byteLength, 0);
    assert.ok(total <= 40 * MB && total > 40 * MB - 3, `${total} bytes`);
    // The entries live in the claimed memory.
    assert.equal(s.read(s.find(2, 0)).body?.toString(), '{"answer":2}');
    assert.ok(Buffer.from(handed[0][0]).includes('{"answer":1}'));
  });
});

/** A cache whose every miss is answered by `serve`, with the claim given. */
function cacheWith(preallocate: boolean, claim: CacheDeps["claimMemory"], warnings: string[] = []) {
  const answer = (): Answer => ({ status: 200, contentType: "application/json", target: "p/m", attempts: [], body: Buffer.from('{"ok":true}') });
  return new ResponseCache(
    { ...DEFAULTS.cache, enabled: true, coalesce: true, preallocate },
    {
      gateway: {},
      clock: new FakeClock(),
      random: () => 0.5,
      warn: (m) => warnings.push(m),
      serve: async () => answer(),
      modelSetting: () => undefined,
      configured: () => true,
      priceOf: () => undefined,
      claimMemory: claim,
    },
  );
}

describe("the cache's memory in its stats", () => {
  test("unused until the first entry, claiming while the claim runs, then claimed", async () => {
    let finish = (): void => {};
    const claims: number[] = [];
    const cache = cacheWith(true, (slabs) => {
      claims.push(slabs.length);
      return { done: new Promise<void>((resolve) => (finish = resolve)), stop: async () => {} } satisfies MemoryClaim;
    });
    assert.equal(cache.stats().memory, "unused");
    await cache.handle("chat", { model: "m", messages: [] }, { requestId: "r1" });
    assert.equal(cache.stats().entries, 1);
    assert.deepEqual(claims, [16], "256 MB in 16 slabs, claimed once");
    assert.equal(cache.stats().memory, "claiming");
    await cache.handle("chat", { model: "m", messages: [{ role: "user", content: "again" }] }, { requestId: "r2" });
    assert.deepEqual(claims, [16]);
    finish();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(cache.stats().memory, "claimed");
    cache.close();
  });

  test("preallocate: false claims nothing ahead: memory on write", async () => {
    let called = false;
    const cache = cacheWith(false, () => {
      called = true;
      return { done: Promise.resolve(), stop: async () => {} };
    });
    assert.equal(cache.stats().memory, "on write");
    await cache.handle("chat", { model: "m", messages: [] }, { requestId: "r1" });
    assert.equal(cache.stats().entries, 1);
    assert.equal(called, false);
    assert.equal(cache.stats().memory, "on write");
  });

  test("a claim that cannot run is said once, and the cache goes on storing", async () => {
    const warnings: string[] = [];
    const cache = cacheWith(
      true,
      (_slabs, failed) => {
        failed(new Error("no threads left"));
        return { done: Promise.resolve(), stop: async () => {} };
      },
      warnings,
    );
    await cache.handle("chat", { model: "m", messages: [] }, { requestId: "r1" });
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(cache.stats().memory, "on write");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /memory cannot be claimed ahead \(no threads left\)/);
    const hit = await cache.handle("chat", { model: "m", messages: [] }, { requestId: "r2" });
    assert.equal(hit.cache?.status, "hit");
  });

  test("close stops a claim under way", async () => {
    let stopped = 0;
    const cache = cacheWith(true, () => ({ done: new Promise<void>(() => {}), stop: async () => void stopped++ }));
    await cache.handle("chat", { model: "m", messages: [] }, { requestId: "r1" });
    cache.close();
    assert.equal(stopped, 1);
  });
});
