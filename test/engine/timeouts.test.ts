import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GatewayError } from "../../src/protocol/errors.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { classifyTransportError } from "../../src/upstream/errors.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("timeouts, each with its own 504", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
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
        total: { targets: ["total/m"], retry: { attempts: 5, base_delay: "1ms" } },
      },
    });
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
    mock.setFault("stall-headers");
    const res = await post(`${gw.url}/v1/chat/completions`, chat("total"));
    assert.equal(res.status, 504);
    const body = JSON.parse(res.text);
    assert.equal(body.error.code, "SY_ERR_TOTAL_TIMEOUT");
    assert.match(body.error.message, /total timeout of 150 ms/);
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
