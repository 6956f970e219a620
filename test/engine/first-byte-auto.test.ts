/**
 * `timeouts.first_byte: auto`: which limit each attempt's transport is given.
 * The engine and the mock share a fake clock, so first-byte times are what
 * the test makes them; a spy on the target's transport reads the limit.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import type { Timeouts } from "../../src/config/types.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { AUTO_MIN_MS, MIN_SAMPLES } from "../../src/upstream/target-stats.ts";
import type { Transport } from "../../src/upstream/transport.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("first_byte: auto", () => {
  const clock = new FakeClock();
  let mock: MockUpstream;
  let quick: MockUpstream;
  let gw: TestGateway;
  /** [provider, first-byte limit] of every upstream call, in order. */
  const seen: Array<[string, number]> = [];

  before(async () => {
    mock = await startMockUpstream({ clock, latencyMs: 100_000 });
    quick = await startMockUpstream({ clock });
    gw = await startGateway(
      {
        defaults: { timeouts: { first_byte: "45s" } },
        providers: {
          auto: { type: "openai", base_url: mock.url, timeouts: { first_byte: "auto" } },
          fixed: { type: "openai", base_url: mock.url },
          quick: { type: "openai", base_url: quick.url, timeouts: { first_byte: "auto" } },
        },
        models: { learn: { targets: ["auto/m"] }, fixed: { targets: ["fixed/m"] }, quick: { targets: ["quick/m"] } },
      },
      { clock },
    );
    // Each provider has a transport of its own.
    for (const name of ["learn", "fixed", "quick"]) {
      const target = gw.engine.routes.resolve(name).plan.tiers[0][0];
      const transport = target.transport;
      const send = transport.send.bind(transport);
      Object.assign(transport, {
        send: (call: Parameters<Transport["send"]>[0], signal: AbortSignal, timeouts: Timeouts) => {
          seen.push([target.provider.config.name, timeouts.firstByte]);
          return send(call, signal, timeouts);
        },
      });
    }
  });
  after(async () => {
    await gw.close();
    await mock.close();
    await quick.close();
  });

  /** One request whose first byte the mock holds for its 100 s latency. */
  async function held(model: string, stream = false): Promise<void> {
    const res = post(`${gw.url}/v1/chat/completions`, chat(model, { stream }));
    await once(mock, "request");
    clock.advance(100_000);
    assert.equal((await res).status, 200);
  }

  test("the configured value until MIN_SAMPLES first-byte times, then twice their 95th percentile", async () => {
    for (let i = 0; i < MIN_SAMPLES; i++) await held("learn");
    assert.deepEqual(new Set(seen.map(([p, ms]) => `${p} ${ms}`)), new Set(["auto 45000"]), "the value defaults give it, until learnt");
    assert.equal(seen.length, MIN_SAMPLES);
    await held("learn");
    assert.deepEqual(seen.at(-1), ["auto", 200_000]);
    assert.equal(gw.engine.targets!.firstByteLimit("auto/m", false), 200_000);
  });

  test("streams learn apart from whole answers", async () => {
    await held("learn", true);
    assert.deepEqual(seen.at(-1), ["auto", 45_000]);
    assert.equal(gw.engine.targets!.firstByteLimit("auto/m", true), undefined);
  });

  test("a provider without auto keeps its limit", async () => {
    await held("fixed");
    assert.deepEqual(seen.at(-1), ["fixed", 45_000]);
    assert.equal(gw.engine.targets!.firstByteLimit("fixed/m", false), undefined, "one sample so far");
    for (let i = 0; i < MIN_SAMPLES; i++) await held("fixed");
    assert.equal(gw.engine.targets!.firstByteLimit("fixed/m", false), 200_000, "measured all the same");
    assert.deepEqual(seen.at(-1), ["fixed", 45_000]);
  });

  test("quick first bytes give the floor of 10 s", async () => {
    for (let i = 0; i <= MIN_SAMPLES; i++) assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("quick"))).status, 200);
    assert.deepEqual(seen.at(-2), ["quick", 45_000]);
    assert.deepEqual(seen.at(-1), ["quick", AUTO_MIN_MS]);
    assert.equal(AUTO_MIN_MS, 10_000);
  });
});
