import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("Retry-After", () => {
  let mock: MockUpstream;
  let clock: FakeClock;
  let gw: TestGateway;
  before(async () => {
    mock = await startMockUpstream();
    clock = new FakeClock();
    gw = await startGateway(
      {
        providers: {
          p: { type: "openai", base_url: mock.url, timeouts: { total: "10s" } },
          short: { type: "openai", base_url: mock.url, timeouts: { total: "1s" } },
        },
        models: {
          m: { targets: ["p/x"], retry: { attempts: 2, base_delay: "10ms", max_delay: "10ms" } },
          short: { targets: ["short/x"], retry: { attempts: 2, base_delay: "10ms", max_delay: "10ms" } },
        },
      },
      { clock, random: () => 0.5 },
    );
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("is honoured when it fits the deadline: the retry waits for it", async () => {
    mock.reset();
    mock.setFault("status=429;retry-after=2", { times: 1 });
    const pending = post(`${gw.url}/v1/chat/completions`, chat("m"));
    const delay = await clock.waitForTimer((ms) => ms >= 1000 && ms < 10_000);
    assert.equal(delay, 2000);
    assert.equal(mock.requests.length, 1, "no second attempt before Retry-After has passed");
    clock.advance(2000);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
    assert.equal(mock.requests.length, 2);
  });

  test("a Retry-After past the deadline skips the target instead of waiting", async () => {
    mock.reset();
    mock.setFault("status=503;retry-after=5", { times: 1 });
    const before = clock.scheduled.length;
    const res = await post(`${gw.url}/v1/chat/completions`, chat("short"));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-switchyard-attempts"), "1");
    assert.equal(mock.requests.length, 1);
    assert.ok(!clock.scheduled.slice(before).includes(5000), "never scheduled a 5 s wait");
  });

  test("without Retry-After the retry waits the jittered backoff", async () => {
    mock.reset();
    mock.setFault("status=500", { times: 1 });
    const pending = post(`${gw.url}/v1/chat/completions`, chat("m"));
    const delay = await clock.waitForTimer((ms) => ms === 5);
    assert.equal(delay, 5, "half of the 10 ms ceiling with random() = 0.5");
    clock.advance(5);
    assert.equal((await pending).status, 200);
  });
});
