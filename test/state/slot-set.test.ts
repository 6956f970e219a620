import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SlotSet } from "../../src/state/slot-set.ts";

describe("a set held in reusable slots", () => {
  test("adds, removes once, reuses a freed slot, and visits what is held", () => {
    const s = new SlotSet<{ n: number }>();
    const a = { n: 1 };
    const b = { n: 2 };
    const sa = s.add(a);
    const sb = s.add(b);
    assert.notEqual(sa, sb);
    assert.equal(s.size, 2);
    assert.equal(s.delete(sa, a), true);
    assert.equal(s.delete(sa, a), false, "a second removal finds nothing");
    assert.equal(s.delete(sb, a), false, "another's slot is left alone");
    const c = { n: 3 };
    assert.equal(s.add(c), sa, "the freed slot is reused");
    const seen: number[] = [];
    s.forEach((v) => {
      seen.push(v.n);
      s.delete(sb, b); // removing while visiting is safe
    });
    assert.deepEqual(seen.sort(), [2, 3]);
    assert.equal(s.size, 1);
  });
});
