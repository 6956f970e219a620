import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFault } from "../../src/mock/faults.ts";

test("parseFault reads each fault with its defaults", () => {
  assert.deepEqual(parseFault("status=503;retry-after=2"), { kind: "status", status: 503, retryAfter: 2 });
  assert.deepEqual(parseFault(" reset "), { kind: "reset" });
  assert.deepEqual(parseFault("reset-mid"), { kind: "reset-mid", after: 2 });
  assert.deepEqual(parseFault("stall-body;after=3"), { kind: "stall-body", after: 3 });
  assert.deepEqual(parseFault("stall-headers;times=2"), { kind: "stall-headers", times: 2 });
  assert.deepEqual(parseFault("malformed"), { kind: "malformed", after: 0 });
  assert.deepEqual(parseFault("error-event"), { kind: "error-event", after: 0 });
  assert.deepEqual(parseFault("trickle;interval=5"), { kind: "trickle", interval: 5, size: 16 });
  assert.deepEqual(parseFault("none"), { kind: "none" });
});

test("parseFault names the bad part", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /empty/],
    ["explode", /'explode'/],
    ["status", /'status' needs a value/],
    ["status=abc", /'status=abc'/],
    ["status=99", /'status=99'/],
    ["reset=1", /'reset=1' takes no value/],
    ["reset;malformed", /two faults/],
    ["times=2", /names no fault/],
    ["reset;interval=5", /'interval=5' does not apply to 'reset'/],
    ["status=500;times=0", /'times=0'/],
    ["trickle;interval=-1", /'interval=-1'/],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseFault(spec), message, spec);
  }
});
