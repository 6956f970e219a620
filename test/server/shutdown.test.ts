import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import { startMockUpstream } from "../../src/mock/index.ts";
import { shutdown } from "../../src/server/shutdown.ts";
import { openChatStream, startGateway } from "../helpers/gateway.ts";

async function setUp(tokensPerSecond: number, tokens: number) {
  const upstream = await startMockUpstream({ tokens, tokensPerSecond });
  const gw = await startGateway({ providers: { up: { type: "openai", base_url: upstream.url } }, models: { m: { targets: ["up/x"] } } });
  return { upstream, gw };
}

describe("graceful shutdown", () => {
  test("a stream still running after the grace period ends with whole events and a shutting-down error event", async () => {
    const { upstream, gw } = await setUp(50, 1000);
    try {
      const res = await openChatStream(gw.url);
      const reader = res.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      const aborted = once(upstream, "abort");
      await shutdown(gw.running, gw.engine, 0);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      assert.ok(text.endsWith("\n\n"), "the stream ends on an event boundary");
      const events = text.slice(0, -2).split("\n\n");
      const last = JSON.parse(events.at(-1)!.slice("data: ".length)) as { error: { code: string; status: number; type: string } };
      assert.deepEqual(last.error, {
        code: "SY_ERR_SHUTTING_DOWN",
        status: 503,
        type: "server_error",
        message: "the gateway is shutting down",
        param: null,
        switchyard_code: "SY_ERR_SHUTTING_DOWN",
      } as never);
      for (const e of events.slice(0, -1)) JSON.parse(e.slice("data: ".length));
      const [record] = await aborted;
      assert.equal(record.aborted, true, "the upstream call is aborted");
    } finally {
      await upstream.close();
    }
  });

  test("requests under way finish normally within the grace period, and new connections are refused", async () => {
    const { upstream, gw } = await setUp(2000, 40);
    try {
      const res = await openChatStream(gw.url);
      const stopping = shutdown(gw.running, gw.engine, 60_000);
      await assert.rejects(fetch(`${gw.url}/health`), "no new connections once stopping");
      const text = await res.text();
      assert.ok(text.endsWith("data: [DONE]\n\n"), "the stream completes");
      assert.doesNotMatch(text, /SY_ERR_SHUTTING_DOWN/);
      // Resolves once the stream is done, long before the grace period would end.
      await stopping;
      assert.equal(gw.running.server.listening, false);
    } finally {
      await upstream.close();
    }
  });
});
