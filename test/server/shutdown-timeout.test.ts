import assert from "node:assert/strict";
import { test } from "node:test";
import { startMockUpstream } from "../../src/mock/index.ts";
import { shutdown } from "../../src/server/shutdown.ts";
import { streamRequest } from "../admin/helpers.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startGateway } from "../helpers/gateway.ts";

test("server.shutdown_timeout: a stream that ends in time completes; one that outlasts it ends with the error event", async (t) => {
  const upstreamClock = new FakeClock();
  const gatewayClock = new FakeClock();
  // Short replies finish after 2 paced tokens; long ones need 1000.
  const short = await startMockUpstream({ tokens: 2, tokensPerSecond: 1, clock: upstreamClock });
  const long = await startMockUpstream({ tokens: 1000, tokensPerSecond: 1, clock: upstreamClock });
  const gw = await startGateway({
    server: { shutdown_timeout: "30s" },
    providers: { s: { type: "openai", base_url: short.url }, l: { type: "openai", base_url: long.url } },
    models: { quick: { targets: ["s/x"] }, slow: { targets: ["l/x"] } },
  });
  t.after(async () => {
    await short.close();
    await long.close();
  });
  assert.equal(gw.engine.config.server.shutdownTimeout, 30_000);
  const quick = await streamRequest(gw.url, "quick");
  const slow = await streamRequest(gw.url, "slow");
  const quickText = quick.text();
  const slowText = slow.text();

  const stopping = shutdown(gw.running, gw.engine, undefined, gatewayClock);
  assert.equal(gw.engine.draining, true);
  await gatewayClock.waitForTimer((ms) => ms === 30_000);
  // The upstreams move on (one paced token a second), while the gateway's grace period has not run out.
  const done = await (async () => {
    for (let i = 0; i < 10; i++) {
      await upstreamClock.waitForTimer(() => true);
      upstreamClock.advance(1000);
    }
    return quickText;
  })();
  const text = await done;
  assert.ok(text.endsWith("data: [DONE]\n\n"), "the stream that finished during the drain is whole");
  assert.doesNotMatch(text, /SY_ERR_SHUTTING_DOWN/);

  gatewayClock.advance(30_000);
  const cut = await slowText;
  assert.match(cut, /SY_ERR_SHUTTING_DOWN/, "the stream still running at the timeout ends with the error event");
  assert.ok(cut.endsWith("\n\n"));
  gatewayClock.advance(1000);
  await stopping;
  assert.equal(gw.running.server.listening, false);
});

test("/health answers 503 draining while the gateway drains", async () => {
  const gw = await startGateway({ providers: { d: { type: "demo" } }, models: { m: { targets: ["d/demo-1"] } } });
  try {
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    gw.engine.draining = true;
    const res = await fetch(`${gw.url}/health`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: "draining" });
  } finally {
    await gw.close();
  }
});
