import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AnswerStore, type NewEntry } from "../../src/cache/answer-store.ts";

const head = { status: 200, contentType: "application/json", target: "p/m", attempts: [] };

function entry(fp: number, answer: Buffer | string[], over: Partial<NewEntry> = {}): NewEntry {
  const whole = Buffer.isBuffer(answer);
  return {
    fp,
    op: "chat",
    tenant: "",
    form: "",
    request: Buffer.from(`{"model":"m","n":${fp}}`),
    model: "m",
    head,
    body: whole ? answer : undefined,
    chunks: whole ? [] : answer.map((c) => Buffer.from(c)),
    storedAt: 0,
    expiresAt: Number.POSITIVE_INFINITY,
    ...over,
  };
}

/** A store and what it reported dropping, as "fp-model:evicted|dropped". */
function store(maxBytes: number) {
  const removed: string[] = [];
  const s = new AnswerStore(maxBytes, { removed: (model, fileKey, evicted) => removed.push(`${fileKey ?? model}:${evicted ? "evicted" : "dropped"}`) });
  return { s, removed };
}

describe("the answer store", () => {
  test("keeps a whole answer and a stream's events with the request, and gives back copies", () => {
    const { s } = store(1 << 20);
    assert.equal(s.put(entry(1, Buffer.from('{"id":"a"}'), { request: Buffer.from('{"content":"héllo ✓"}') })), true);
    assert.equal(s.put(entry(2, ["data: 1\n\n", "", "data: [DONE]\n\n"])), true);
    const one = s.find(1, 0);
    assert.equal(s.requestOf(one), '{"content":"héllo ✓"}', "a request with multi-byte characters comes back whole");
    assert.equal(s.hasRequest(one, Buffer.from('{"content":"héllo ✓"}')), true);
    assert.equal(s.hasRequest(one, Buffer.from('{"content":"hello ✓"}')), false);
    assert.equal(s.hasRequest(one, Buffer.from('{"content":"héllo"}')), false);
    assert.equal(s.isFor(one, "chat", "", ""), true);
    assert.equal(s.isFor(one, "messages", "", ""), false);
    const rec = s.read(one);
    assert.equal(rec.body!.toString(), '{"id":"a"}');
    assert.deepEqual(rec.head, head);
    const stream = s.read(s.find(2, 0));
    assert.deepEqual(stream.chunks.map(String), ["data: 1\n\n", "", "data: [DONE]\n\n"]);
    assert.equal(stream.body, undefined);
    assert.equal(s.find(3, 0), -1);
    assert.equal(s.size, 2);
  });

  test("the least recently used goes first: a read makes an entry the most recent", () => {
    // Each region is the request (about 20 bytes) and a 100-byte answer: three fit in 400 bytes, four do not.
    const { s, removed } = store(400);
    for (const fp of [1, 2, 3]) s.put(entry(fp, Buffer.alloc(100, fp), { fileKey: `k${fp}` }));
    s.read(s.find(1, 0));
    s.put(entry(4, Buffer.alloc(100, 4), { fileKey: "k4" }));
    assert.deepEqual(removed, ["k2:evicted"]);
    assert.equal(s.find(2, 0), -1);
    for (const fp of [1, 3, 4]) assert.ok(s.find(fp, 0) >= 0, `entry ${fp} is kept`);
    // Used now: 1, 4, 3; the next to go is 1.
    assert.deepEqual([...s.read(s.find(3, 0)).body!], new Array(100).fill(3));
    s.put(entry(5, Buffer.alloc(100, 5), { fileKey: "k5" }));
    assert.deepEqual(removed, ["k2:evicted", "k1:evicted"]);
    for (const fp of [3, 4, 5]) assert.ok(s.find(fp, 0) >= 0, `entry ${fp} is kept`);
    assert.ok(s.bytes <= 400);
  });

  test("wraps around its slabs many times and every entry it still holds reads back exactly", () => {
    // 40 MB: three slabs; 600 KB answers, so about 22 to a slab, and 150 of them go round the ring twice.
    const { s } = store(40 * 1024 * 1024);
    const held: number[] = [];
    for (let fp = 1; fp <= 150; fp++) {
      assert.equal(s.put(entry(fp, Buffer.alloc(600 * 1024, fp % 251))), true);
      held.push(fp);
    }
    const kept = held.filter((fp) => s.find(fp, 0) >= 0);
    assert.ok(kept.length >= 60 && kept.length < 70, `${kept.length} entries kept`);
    assert.deepEqual(kept, held.slice(-kept.length), "the newest are the ones kept");
    for (const fp of kept) {
      const body = s.read(s.find(fp, 0)).body!;
      assert.equal(body.length, 600 * 1024);
      assert.ok(body.every((b) => b === fp % 251), `entry ${fp} is intact`);
    }
    assert.ok(s.bytes <= 40 * 1024 * 1024);
  });

  test("a copy read out stays intact after the ring has moved on", () => {
    const { s } = store(1000);
    s.put(entry(1, Buffer.alloc(300, 1)));
    const body = s.read(s.find(1, 0)).body!;
    for (let fp = 2; fp < 20; fp++) s.put(entry(fp, Buffer.alloc(300, fp)));
    assert.equal(s.find(1, 0), -1);
    assert.ok(body.every((b) => b === 1));
  });

  test("one entry per fingerprint: a second replaces the first, and is not counted as an eviction", () => {
    const { s, removed } = store(1 << 20);
    s.put(entry(5, Buffer.from("first"), { fileKey: "a" }));
    s.put(entry(5, Buffer.from("second"), { fileKey: "b", request: Buffer.from("{}") }));
    assert.deepEqual(removed, ["a:dropped"]);
    assert.equal(s.size, 1);
    assert.equal(s.read(s.find(5, 0)).body!.toString(), "second");
    assert.equal(s.requestOf(s.find(5, 0)), "{}");
  });

  test("an expired entry is dropped when looked up; purge drops a model's or all; what cannot fit is refused", () => {
    const { s, removed } = store(1000);
    s.put(entry(1, Buffer.from("x"), { expiresAt: 100 }));
    assert.ok(s.find(1, 99) >= 0);
    assert.equal(s.find(1, 100), -1);
    assert.deepEqual(removed, ["m:dropped"]);
    s.put(entry(2, Buffer.from("x"), { model: "a" }));
    s.put(entry(3, Buffer.from("x"), { model: "b" }));
    s.put(entry(4, Buffer.from("x"), { model: "a" }));
    const byModel: Record<string, number> = {};
    s.forEach((model) => (byModel[model] = (byModel[model] ?? 0) + 1));
    assert.deepEqual(byModel, { a: 2, b: 1 });
    assert.equal(s.purge("a"), 2);
    assert.equal(s.size, 1);
    assert.equal(s.purge(), 1);
    assert.equal(s.bytes, 0);
    assert.equal(s.put(entry(9, Buffer.alloc(1001))), false);
    assert.equal(s.size, 0);
  });

  test("names are kept once each, and a client cannot grow them without bound: past 65,536 names, entries with new ones are not stored", () => {
    const { s } = store(64 * 1024 * 1024);
    let refused = -1;
    for (let i = 0; i < 70_000 && refused < 0; i++) if (!s.put(entry(i, Buffer.from("x"), { model: `model-${i}` }))) refused = i;
    // The operation, the empty tenant and form (one name), the content type and the target took four names; models took the rest.
    assert.equal(refused, 65_536 - 4);
    assert.equal(s.put(entry(1_000_000, Buffer.from("x"), { model: "model-7" })), true, "a name already known still stores");
    const slot = s.find(1_000_000, 0);
    assert.equal(s.isFor(slot, "chat", "", ""), true);
    assert.equal(s.isFor(slot, "chat", "never seen", ""), false);
  });

  test("what an answer saved is kept by slot once known", () => {
    const { s } = store(1000);
    s.put(entry(1, Buffer.from("x")));
    const slot = s.find(1, 0);
    assert.equal(s.savedOf(slot), undefined);
    s.setSaved(slot, { inputTokens: 3, outputTokens: 4, cost: 0.5 });
    assert.deepEqual(s.savedOf(slot), { inputTokens: 3, outputTokens: 4, cost: 0.5 });
  });
});
