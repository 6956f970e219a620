/**
 * How a hedge counts in the limits and the retry budget. A hedge is a second
 * upstream call: it counts once in the rate windows of the target it goes to
 * and of that target's provider (two calls to one provider are two of its
 * requests), and holds a concurrency slot of its own until it ends. In the
 * retry budget the client's request counts once, and the hedge spends one
 * retry. The attempt that loses is aborted: its slot is given back at once,
 * its request stays counted (it was sent), and its estimated tokens are given
 * back, since only the winner's usage is known.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

test("a hedge is one more upstream call to the limits and one retry to the budget; the loser gives its slot back at once", async (t) => {
  const clock = new FakeClock();
  const gw = await startGateway(
    {
      providers: { p: { type: "openai", base_url: mock.url, limits: { rpm: 100, tpm: 1_000_000, concurrency: 10 } } },
      models: { h: { targets: ["p/a", { provider: "p", model: "b", priority: 1 }], hedge: { after: "2s" } } },
    },
    { clock, random: () => 0 },
  );
  t.after(() => gw.close());
  const store = gw.engine.store;
  const used = async (key: string, windowMs: number) => 1000 - (await store.windowTake(key, 0, 1000, windowMs)).remaining;

  mock.setFault("stall-headers", { times: 1 });
  const arrived = once(mock, "request");
  const pending = post(`${gw.url}/v1/chat/completions`, chat("h"));
  await arrived;
  clock.advance(await clock.waitForTimer((ms) => ms === 2000));
  const aborted = once(mock, "abort");
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-switchyard-target"), "p/b");
  assert.equal(res.headers.get("x-switchyard-attempts"), "2");
  await aborted;

  assert.equal(mock.requests.length, 2);
  assert.equal(await used("limits:provider:p:rpm", 60_000), 2, "two calls went to the provider: two of its requests");
  assert.equal(await used("budget:p:requests", 10_000), 1, "one client request");
  assert.equal(await used("budget:p:retries", 10_000), 1, "the hedge spent one retry");
  const report = gw.engine.limits!.report().p;
  assert.equal(report.concurrency?.in_flight, 0, "the loser's slot was given back");
  assert.deepEqual(report.rpm, { limit: 100, effective: 100 }, "a cancelled hedge is no 429: nothing is lowered");
});
