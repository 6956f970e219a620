import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { blendedPrice } from "../../src/routing/strategies/cost.ts";
import { EXPLORATION } from "../../src/routing/strategies/latency.ts";
import { strategyOrder } from "../../src/routing/strategies/index.ts";
import type { Candidate } from "../../src/routing/strategies/types.ts";
import type { TargetView } from "../../src/upstream/target-stats.ts";
import { seededRandom } from "../helpers/fake-clock.ts";

const t = (label: string, extra: Partial<Candidate> = {}): Candidate => ({ label, priority: 0, weight: 1, ...extra });
const labels = (xs: Candidate[]) => xs.map((x) => x.label);

/** A view whose figures the test sets by hand. */
function view(inFlight: Record<string, number> = {}, latency: Record<string, number> = {}): TargetView {
  return {
    inFlight: (l) => inFlight[l] ?? 0,
    latency: (l, stream) => latency[`${l}${stream ? ":stream" : ""}`] ?? latency[l],
    firstByteLimit: () => undefined,
  firstByteP95: () => undefined,
  };
}

/** Returns the scripted values in turn, then `rest`. */
function scripted(values: number[], rest = 0.5): () => number {
  let i = 0;
  return () => (i < values.length ? values[i++] : rest);
}

/** How often each label comes first over `runs` orders. */
function firsts(order: (ctx: { random: () => number; stream: boolean }) => Candidate[], runs: number, seed = 7): Record<string, number> {
  const random = seededRandom(seed);
  const out: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    const first = order({ random, stream: false })[0].label;
    out[first] = (out[first] ?? 0) + 1;
  }
  return out;
}

describe("strategies", () => {
  test("priority (the default): tiers lowest first, weighted inside", () => {
    const targets = [t("backup", { priority: 1, weight: 100 }), t("heavy", { weight: 9 }), t("light", { weight: 1 })];
    const order = strategyOrder(undefined, targets);
    for (let i = 0; i < 50; i++) assert.equal(order({ random: Math.random, stream: false })[2].label, "backup");
    const counts = firsts(order, 2000);
    assert.equal(counts.backup, undefined);
    assert.ok(counts.heavy > 1700 && counts.heavy < 1900, `heavy first ${counts.heavy} of 2000 times, expected about 1800`);
  });

  test("weighted: one draw over every target, priorities ignored", () => {
    const order = strategyOrder("weighted", [t("backup", { priority: 1, weight: 3 }), t("main", { weight: 1 })]);
    const counts = firsts(order, 2000);
    assert.ok(counts.backup > 1400 && counts.backup < 1600, `backup first ${counts.backup} of 2000 times, expected about 1500`);
    const all = order({ random: Math.random, stream: false });
    assert.deepEqual(labels(all).sort(), ["backup", "main"]);
  });

  test("least-busy: fewest in flight first; ties in weighted random order", () => {
    const inFlight: Record<string, number> = { a: 3, b: 1, c: 2 };
    const order = strategyOrder("least-busy", [t("a"), t("b"), t("c", { priority: 5 })], view(inFlight));
    assert.deepEqual(labels(order({ random: Math.random, stream: false })), ["b", "c", "a"]);
    inFlight.b = 4;
    assert.deepEqual(labels(order({ random: Math.random, stream: false })), ["c", "a", "b"]);
    const idle = strategyOrder("least-busy", [t("x", { weight: 1 }), t("y", { weight: 3 })], view());
    const counts = firsts(idle, 2000);
    assert.ok(counts.y > 1400 && counts.y < 1600, `y first ${counts.y} of 2000 times, expected about 1500`);
  });

  test("latency: lowest average first, by the request's kind; a target never measured goes first", () => {
    const latency: Record<string, number> = { slow: 900, fast: 100, "slow:stream": 50, "fast:stream": 400 };
    const targets = [t("slow"), t("fast"), t("new")];
    const order = strategyOrder("latency", targets, view({}, latency));
    // Above EXPLORATION: no exploring.
    const random = () => 0.5;
    assert.deepEqual(labels(order({ random, stream: false })), ["new", "fast", "slow"]);
    assert.deepEqual(labels(order({ random, stream: true })), ["new", "slow", "fast"]);
    latency.new = 500;
    assert.deepEqual(labels(order({ random, stream: false })), ["fast", "new", "slow"]);
  });

  test("latency explores: a share EXPLORATION of requests start with another target, chosen at random", () => {
    const targets = [t("a"), t("b"), t("c")];
    const order = strategyOrder("latency", targets, view({}, { a: 10, b: 20, c: 30 }));
    // Three draws shuffle the ties (none here), the fourth decides exploring, the fifth picks among the others.
    assert.deepEqual(labels(order({ random: scripted([0.5, 0.5, 0.5, EXPLORATION - 0.001, 0.9]), stream: false })), ["c", "a", "b"]);
    assert.deepEqual(labels(order({ random: scripted([0.5, 0.5, 0.5, EXPLORATION - 0.001, 0.1]), stream: false })), ["b", "a", "c"]);
    assert.deepEqual(labels(order({ random: scripted([0.5, 0.5, 0.5, EXPLORATION]), stream: false })), ["a", "b", "c"]);
    const counts = firsts(order, 4000);
    const share = 1 - counts.a / 4000;
    assert.ok(share > EXPLORATION / 2 && share < EXPLORATION * 2, `another target went first ${share} of the time, expected about ${EXPLORATION}`);
  });

  test("cost: cheapest by the 3:1 blend of input and output prices; unpriced last; equal prices by weight", () => {
    assert.equal(blendedPrice({ input: 1, output: 5 }), 2);
    const targets = [
      t("unpriced"),
      t("dear", { cost: { input: 10, output: 30 } }),
      t("cheap-in", { cost: { input: 0.1, output: 8 } }), // blend 2.075
      t("cheap-out", { cost: { input: 2, output: 0.5 } }), // blend 1.625
      t("twin", { cost: { input: 2, output: 0.5 }, weight: 3 }),
    ];
    const order = strategyOrder("cost", targets);
    for (let i = 0; i < 20; i++) {
      const got = labels(order({ random: Math.random, stream: false }));
      assert.deepEqual(got.slice(2), ["cheap-in", "dear", "unpriced"]);
      assert.deepEqual(got.slice(0, 2).sort(), ["cheap-out", "twin"]);
    }
    const counts = firsts(order, 2000);
    assert.ok(counts.twin > 1400 && counts.twin < 1600, `twin first ${counts.twin} of 2000 times, expected about 1500`);
  });

  test("a single target is the whole order whatever the strategy, and draws nothing", () => {
    for (const name of ["priority", "weighted", "least-busy", "latency", "cost"] as const) {
      const order = strategyOrder(name, [t("only")], view());
      assert.deepEqual(labels(order({ random: () => assert.fail("no draw expected"), stream: false })), ["only"]);
    }
  });

  test("least-busy and latency need statistics", () => {
    assert.throws(() => strategyOrder("least-busy", [t("a"), t("b")]), /needs target statistics/);
    assert.throws(() => strategyOrder("latency", [t("a"), t("b")]), /needs target statistics/);
  });
});
