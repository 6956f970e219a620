import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseOptions } from "../../bench/options.ts";
import { summarisePaired } from "../../bench/paired.ts";

describe("bench: paired rounds", () => {
  test("each round's ratio is a's CPU per request over b's, summarised by its median", () => {
    const s = summarisePaired([
      { aUs: 100, bUs: 125, aRequests: 1, bRequests: 1 },
      { aUs: 100, bUs: 100, aRequests: 1, bRequests: 1 },
      { aUs: 90, bUs: 100, aRequests: 1, bRequests: 1 },
    ]);
    assert.deepEqual(s, { rounds: 3, median: 0.9, min: 0.8, max: 1 });
  });

  test("an even count takes the mean of the middle two; a round without figures is left out", () => {
    const s = summarisePaired([
      { aUs: 100, bUs: 125, aRequests: 1, bRequests: 1 },
      { aUs: 100, bUs: 100, aRequests: 1, bRequests: 1 },
      { aUs: Number.NaN, bUs: 100, aRequests: 0, bRequests: 1 },
    ]);
    assert.equal(s.rounds, 2);
    assert.equal(s.median, 0.9);
  });

  test("no rounds: no figures, not a crash", () => {
    assert.equal(summarisePaired([]).rounds, 0);
    assert.ok(Number.isNaN(summarisePaired([]).median));
  });
});

describe("bench: --paired", () => {
  test("names the two targets, and they alone are started", () => {
    const o = parseOptions(["--paired", "switchyard-bare,switchyard-guarded", "--rounds", "8"]);
    assert.ok(o !== "help");
    assert.deepEqual(o.paired, ["switchyard-bare", "switchyard-guarded"]);
    assert.deepEqual(o.targets, ["switchyard-bare", "switchyard-guarded"]);
    assert.equal(o.rounds, 8);
  });

  test("anything but two different ids is refused, naming the flag and what it got", () => {
    for (const bad of ["switchyard", "a,b,c", "a,a", ","]) {
      assert.throws(() => parseOptions(["--paired", bad]), (err: Error) => err.message.startsWith("--paired: expected two different target ids") && err.message.includes(`'${bad}'`), bad);
    }
  });
});
