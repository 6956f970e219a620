/**
 * Breakers judge a committed stream when it ends: one that breaks after its
 * first event (a reset, an error event) counts against its target, one that
 * completes counts as a success, and one the client leaves says nothing.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, openChatStream, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("breakers and streams that break mid-way", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  before(async () => {
    mock = await startMockUpstream();
  });
  after(() => mock.close());
  beforeEach(async () => {
    mock.reset();
    gw = await startGateway(
      {
        providers: { p: { type: "openai", base_url: mock.url } },
        models: { m: { targets: ["p/a"], retry: { attempts: 1 }, breaker: { consecutive: 3 } } },
      },
      { clock: new FakeClock(), random: () => 0 },
    );
  });
  afterEach(() => gw.close());

  const stream = () => post(`${gw.url}/v1/chat/completions`, chat("m", { stream: true }));
  const breaker = async () => {
    const health = (await (await fetch(`${gw.url}/health/upstream`)).json()) as { targets: Record<string, { breaker?: { state: string } }> };
    return health.targets["p/a"].breaker?.state;
  };
  /** Lets the gateway see the end of a stream the client has read to its end. */
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  for (const fault of ["reset-mid;after=2", "error-event;after=1"]) {
    test(`${fault}: streams that break after their first event open the breaker`, async () => {
      mock.setFault(fault, { times: 3 });
      for (let i = 0; i < 3; i++) {
        const res = await stream();
        assert.equal(res.status, 200, "committed: the client got the stream's first events");
        assert.match(res.text, /error/, "and then the stream's error");
        await settled();
      }
      assert.equal(await breaker(), "open");
      const res = await stream();
      assert.equal(res.status, 503);
      assert.equal(JSON.parse(res.text).error.switchyard_code, "SY_ERR_NO_HEALTHY_TARGET");
      assert.equal(mock.requests.filter((r) => r.method === "POST").length, 3, "no call to the ejected target");
    });
  }

  test("a stream that completes is a success: it breaks the row of failures", async () => {
    mock.setFault("reset-mid;after=2", { times: 2 });
    for (let i = 0; i < 2; i++) {
      await stream();
      await settled();
    }
    const ok = await stream();
    assert.match(ok.text, /data: \[DONE\]/);
    await settled();
    mock.setFault("reset-mid;after=2", { times: 2 });
    for (let i = 0; i < 2; i++) {
      await stream();
      await settled();
    }
    assert.equal(await breaker(), "closed", "two failures, a success, two failures: never three in a row");
  });

  test("streams the client leaves say nothing about the target", async () => {
    mock.setFault("stall-body;after=1", { times: 3 });
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      const res = await openChatStream(gw.url, ac.signal);
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      await reader.closed.catch(() => {});
    }
    await settled();
    assert.equal(await breaker(), "closed");
    const res = await stream();
    assert.equal(res.status, 200);
  });
});
