import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { GatewayError } from "../../src/protocol/errors.ts";
import { startMockUpstream, type MockUpstream, type RecordedRequest } from "../../src/mock/index.ts";
import { classifyTransportError } from "../../src/upstream/errors.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("timeouts, each with its own 504", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  // The total timeout is the engine's own timer, so it runs on this clock; first_byte and idle are the
  // HTTP client's timers, proven against a mock that stalls for good, so only their firing is asserted.
  const clock = new FakeClock();
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      providers: {
        fb: { type: "openai", base_url: mock.url, timeouts: { first_byte: "100ms" } },
        idle: { type: "openai", base_url: mock.url, timeouts: { idle: "100ms" } },
        total: { type: "openai", base_url: mock.url, timeouts: { total: "150ms" } },
      },
      models: {
        fb: { targets: ["fb/m"], retry: { attempts: 1 } },
        idle: { targets: ["idle/m"], retry: { attempts: 1 } },
        total: { targets: ["total/m"], retry: { attempts: 5, base_delay: "10ms", max_delay: "10ms" } },
      },
    }, { clock, random: () => 0.5 });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("first_byte: no response headers in time", async () => {
    mock.setFault("stall-headers");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("fb"));
    assert.equal(res.status, 504);
    const body = JSON.parse(res.text);
    assert.equal(body.error.code, "SY_ERR_FIRST_BYTE_TIMEOUT");
    assert.match(body.error.message, /first byte/);
  });

  test("idle: the body stalls between chunks", async () => {
    mock.setFault("stall-body");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("idle"));
    assert.equal(res.status, 504);
    const body = JSON.parse(res.text);
    assert.equal(body.error.code, "SY_ERR_IDLE_TIMEOUT");
    assert.match(body.error.message, /idle/);
  });

  test("total: the whole request, retries included", async () => {
    // The first attempt gets a 503; the retry is held by the mock until the deadline ends it.
    mock.setFault("status=503", { times: 1 });
    let seen = 0;
    let onRequest: (r: RecordedRequest) => void = () => {};
    const retryHeld = new Promise<RecordedRequest>((resolve) => {
      onRequest = (r) => {
        if (++seen === 2) {
          mock.setFault("stall-headers");
          resolve(r);
        }
      };
      mock.on("request", onRequest);
    });
    let settled = false;
    const reply = post(`${gw.url}/v1/chat/completions`, chat("total")).finally(() => (settled = true));
    try {
      // Backoff after the 503: half (the injected random) of base_delay.
      assert.equal(await clock.waitForTimer((ms) => ms < 150), 5);
      clock.advance(5);
      const held = await retryHeld;
      assert.ok(mock.holding().includes(held));
      assert.equal(held.status, undefined);
      clock.advance(144);
      assert.equal(settled, false, "the deadline has not passed yet");
      assert.ok(mock.holding().includes(held));
      const aborted = once(mock, "abort");
      clock.advance(1);
      const res = await reply;
      assert.deepEqual(await aborted, [held], "the deadline aborts the attempt under way");
      assert.equal(res.status, 504);
      const body = JSON.parse(res.text);
      assert.equal(body.error.code, "SY_ERR_TOTAL_TIMEOUT");
      assert.match(body.error.message, /total timeout of 150 ms/);
      assert.deepEqual(
        body.error.attempts.map((a: { status: number; code: string; duration_ms: number }) => [a.status, a.code, a.duration_ms]),
        [
          [503, "SY_ERR_UPSTREAM_STATUS", 0],
          [504, "SY_ERR_TOTAL_TIMEOUT", 145],
        ],
      );
    } finally {
      mock.off("request", onRequest);
      mock.setFault(null);
    }
  });

  test("idle mid-stream ends the stream with an idle-timeout error event", async () => {
    mock.setFault("stall-body;after=3");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("idle", { stream: true }));
    assert.equal(res.status, 200);
    const events = res.text.split("\n\n").filter(Boolean);
    const last = JSON.parse(events.at(-1)!.slice("data: ".length));
    assert.equal(last.error.code, "SY_ERR_IDLE_TIMEOUT");
    assert.ok(events.length >= 2, "the events before the stall were delivered");
  });
});

test("connect: undici's connect timeout maps to its own message", () => {
  const err = Object.assign(new Error("Connect Timeout Error"), { code: "UND_ERR_CONNECT_TIMEOUT" });
  const e = classifyTransportError(err, new AbortController().signal, "p/m");
  assert.equal(e.code, "SY_ERR_CONNECT_TIMEOUT");
  assert.equal(e.status, 504);
  assert.equal(e.retryable, true);
  assert.match(e.message, /timed out connecting to p\/m/);
});

test("our own abort reason wins over what the transport says", () => {
  const ac = new AbortController();
  ac.abort(new GatewayError("SY_ERR_TOTAL_TIMEOUT", "total"));
  const e = classifyTransportError(new Error("aborted"), ac.signal, "p/m");
  assert.equal(e.code, "SY_ERR_TOTAL_TIMEOUT");
  assert.equal(e.retryable, false);
});
