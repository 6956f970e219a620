import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cacheKey, canonicalJson, fingerprint, sameRequest } from "../../src/cache/key.ts";
import { directives } from "../../src/cache/directives.ts";
import { isStringOneByteRepresentation } from "node:v8";
import { createGateway } from "../../src/engine/create.ts";
import { type CacheAnswer, observeGateway } from "../../src/telemetry/channels.ts";

describe("cache keys", () => {
  test("canonical JSON sorts keys at every depth and drops undefined", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });

  test("equal meaning, equal key; the fields that change an answer change it", () => {
    const base = { model: "m", messages: [{ role: "user", content: "hi" }], temperature: 0.2 };
    const k = cacheKey("chat", base, undefined);
    assert.equal(cacheKey("chat", { temperature: 0.2, messages: [{ content: "hi", role: "user" }], model: "m" }, undefined), k);
    assert.equal(cacheKey("chat", { ...base, stream: true, stream_options: { include_usage: true }, user: "u", metadata: { a: 1 } }, undefined), k);
    for (const other of [{ ...base, temperature: 0.3 }, { ...base, model: "n" }, { ...base, messages: [{ role: "user", content: "ho" }] }, { ...base, tools: [] }, { ...base, max_tokens: 5 }]) {
      assert.notEqual(cacheKey("chat", other, undefined), k);
    }
    assert.notEqual(cacheKey("messages", base, undefined), k, "each API's answer is its own");
    assert.notEqual(cacheKey("chat", base, "tenant"), k);
    assert.notEqual(cacheKey("chat", base, undefined, "stream"), k);
  });

  test("values that would run together stay apart: string boundaries, types, lone surrogates, nesting", () => {
    const k = (messages: unknown) => cacheKey("chat", { model: "m", messages }, undefined);
    const pairs: Array<[unknown, unknown]> = [
      [["ab", "c"], ["a", "bc"]],
      [["1"], [1]],
      [[true], ["t"]],
      [[null], ["z"]],
      [[[1], 2], [[1, 2]]],
      [[{ a: "b" }], [{ ab: "" }]],
      [["\ud800"], ["\ud801"]],
      [["\ud800"], ["\ufffd"]],
      [[{ "\ud800": 1 }], [{ "\ud801": 1 }]],
      [[1.5], [15]],
    ];
    for (const [a, b] of pairs) assert.notEqual(k(a), k(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(k([{ b: [1, { d: 1, c: null }], a: "x" }]), k([{ a: "x", b: [1, { c: null, d: 1 }] }]), "key order at every depth does not matter");
    assert.equal(k([{ a: 1, u: undefined }]), k([{ a: 1 }]), "an undefined member is no member");
  });

  test("client directives: no-cache, no-store, and a ttl as a duration or whole seconds", () => {
    assert.deepEqual(directives("No-Cache, max-age=0", undefined), { noStore: false, noCache: true });
    assert.deepEqual(directives("no-store", "90"), { noStore: true, noCache: false, ttlMs: 90_000 });
    assert.equal(directives(undefined, "1h").ttlMs, 3_600_000);
    assert.throws(() => directives(undefined, "-5"), /x-switchyard-cache-ttl/);
  });
});

describe("the in-process client", () => {
  test("library users get the cache too", async () => {
    const gw = await createGateway(
      { providers: { demo: { type: "demo" } }, models: { m: { targets: ["demo/demo-1"] } }, cache: { enabled: true } },
      { demoTokenGapMs: 0, env: {} },
    );
    const seen: CacheAnswer[] = [];
    const stop = observeGateway(gw.engine, { cacheAnswer: (m) => void seen.push(m) });
    try {
      const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
      const a = await gw.request("chat", structuredClone(body));
      const b = await gw.request("chat", structuredClone(body));
      assert.equal(a.cache?.status, "miss");
      assert.equal(b.cache?.status, "hit");
      const chunks = [];
      for await (const c of await gw.chat.completions.create({ ...body, stream: true })) chunks.push(c);
      assert.ok(chunks.length > 1, "a whole answer replays as a stream of chunks");
      assert.equal(gw.engine.cacheStats().hits, 2);
      assert.deepEqual(seen.map((m) => [m.op, m.model, m.status, m.coalesced]), [["chat", "m", "miss", false], ["chat", "m", "hit", false], ["chat", "m", "hit", false]]);
    } finally {
      stop();
      await gw.close();
    }
  });
});

describe("request fingerprints", () => {
  const fp = (body: Record<string, unknown>, op = "chat", tenant = "", form = "", seed = 7) => fingerprint(seed, op, tenant, form, body)!;

  test("equal meaning, equal fingerprint: key order at every depth, delivery fields, undefined members", () => {
    const base = { model: "m", messages: [{ role: "user", content: "hi" }], temperature: 0.2, tools: [{ type: "function", function: { name: "f", parameters: { a: 1, b: 2 } } }] };
    const k = fp(base);
    assert.equal(fp({ tools: [{ function: { parameters: { b: 2, a: 1 }, name: "f" }, type: "function" }], temperature: 0.2, messages: [{ content: "hi", role: "user" }], model: "m" }), k);
    assert.equal(fp({ ...base, stream: true, stream_options: { include_usage: true }, user: "u", metadata: { a: 1 }, request_id: "r", store: true, seed: undefined }), k);
    assert.ok(Number.isInteger(k) && k >= -(2 ** 30) && k < 2 ** 30, "a small integer: a map key without a heap number");
  });

  test("whatever can change the answer changes it: parameters, messages, operation, tenant, form, and the values that would run together", () => {
    const base = { model: "m", messages: [{ role: "user", content: "hi" }], temperature: 0.2 };
    const k = fp(base);
    for (const other of [{ ...base, temperature: 0.3 }, { ...base, model: "n" }, { ...base, messages: [{ role: "user", content: "ho" }] }, { ...base, tools: [] }, { ...base, max_tokens: 5 }]) {
      assert.notEqual(fp(other), k, JSON.stringify(other));
    }
    assert.notEqual(fp(base, "messages"), k);
    assert.notEqual(fp(base, "chat", "tenant-tag"), k);
    assert.notEqual(fp(base, "chat", "", "stream"), k);
    const m = (messages: unknown) => fp({ model: "m", messages });
    const pairs: Array<[unknown, unknown]> = [
      [["ab", "c"], ["a", "bc"]],
      [["1"], [1]],
      [[true], [false]],
      [[null], [0]],
      [[[1], 2], [[1, 2]]],
      [[{ a: "b" }], [{ ab: "" }]],
      [[{ a: 1, b: 2 }], [{ a: 2, b: 1 }]],
      [["\ud800"], ["\ud801"]],
      [[1.5], [15]],
      [[1, 2], [2, 1]],
    ];
    for (const [a, b] of pairs) assert.notEqual(m(a), m(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(m([0]), m([-0]), "0 and -0 are the same JSON number");
  });

  test("a long string is sampled: its length, both ends and points between count; what lies between samples does not", () => {
    const long = "abcdefghij".repeat(10_000);
    const with_ = (text: string) => fp({ model: "m", messages: [{ role: "user", content: text }] });
    const at = (i: number, ch: string) => long.slice(0, i) + ch + long.slice(i + 1);
    const k = with_(long);
    assert.notEqual(with_(at(3, "X")), k, "the head counts");
    assert.notEqual(with_(at(long.length - 3, "X")), k, "the tail counts");
    assert.notEqual(with_(long + "a"), k, "the length counts");
    assert.notEqual(with_(at(128, "X")), k, "the first sample counts");
    assert.equal(with_(at(129, "X")), k, "a unit between samples does not (sameRequest tells them apart)");
  });

  test("a string of up to 4,096 units counts whole: every unit, however V8 holds the string", () => {
    const with_ = (text: string) => fp({ model: "m", messages: [{ role: "user", content: text }] });
    for (const text of ["lorem ipsum dolor sit amet ".repeat(37), "naïve café ".repeat(90), "你好，世界 ".repeat(150), `${"x".repeat(4_095)}é`]) {
      const k = with_(text);
      for (const i of [0, 1, 129, 131, Math.floor(text.length / 2), text.length - 2, text.length - 1]) {
        const other = text.slice(0, i) + (text[i] === "Q" ? "R" : "Q") + text.slice(i + 1);
        assert.notEqual(with_(other), k, `unit ${i} of ${text.length} counts`);
      }
      // A unit that differs only in its high byte (U+0151 against U+0051 'Q').
      assert.notEqual(with_(`${text.slice(0, -1)}\u0151`), with_(`${text.slice(0, -1)}Q`), "a unit's high byte counts");
      assert.equal(with_(text.slice(0, -1) + text.slice(-1)), k, "the same units built another way");
    }
    // Latin-1 text held as two bytes a unit (a slice of a string that needs them) hashes as when held as one.
    const latin = "caf\u00e9 au lait, s'il vous pla\u00eet ".repeat(4);
    const wide = `\u4f60${latin}`.slice(1);
    assert.equal(isStringOneByteRepresentation(latin), true);
    assert.equal(isStringOneByteRepresentation(wide), false, "the slice is held as two bytes a unit");
    assert.equal(wide, latin);
    assert.equal(with_(wide), with_(latin));
    const odd = `${latin}a`;
    assert.equal(with_(`\u4f60${odd}`.slice(1)), with_(odd), "an odd number of units too");
  });

  test("a body nested deeper than a request may be has no fingerprint: the walk stops at the limit", () => {
    const nest = (levels: number): unknown => {
      let v: unknown = "x";
      for (let i = 0; i < levels; i++) v = [v];
      return v;
    };
    // The body is level 0: a value 64 levels below it is one too many, as the engine's validation counts.
    assert.equal(typeof fingerprint(7, "chat", "", "", { model: "m", x: nest(63) }), "number");
    assert.equal(fingerprint(7, "chat", "", "", { model: "m", x: nest(64) }), undefined);
    assert.equal(fingerprint(7, "chat", "", "", { model: "m", x: nest(200_000) }), undefined, "no stack overflow");
    assert.equal(typeof fingerprint(7, "chat", "", "", { model: "m", x: nest(3) }), "number", "the next walk starts afresh");
  });

  test("the seed changes every fingerprint, so that they cannot be worked out from outside", () => {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
    assert.notEqual(fp(body, "chat", "", "", 1), fp(body, "chat", "", "", 2));
  });

  test("sameRequest confirms a match: the same text, or the same meaning in other bytes; anything else is not the same", () => {
    const a = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';
    assert.equal(sameRequest(a, a), true);
    assert.equal(sameRequest(a, ' { "messages" : [ {"content":"hi","role":"user"} ], "model":"m", "stream": true, "user": "u" }'), true);
    assert.equal(sameRequest(a, '{"model":"m","messages":[{"role":"user","content":"ho"}]}'), false);
    assert.equal(sameRequest(a, "not json"), false);
  });
});
