/**
 * OpenTelemetry tracing against a local OTLP/HTTP receiver: the request's
 * span continues the client's trace, each upstream attempt is its child, and
 * the upstream is sent the attempt's own traceparent. (Tracing off:
 * tracing-off.test.ts, in a process of its own.)
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { observeGateway } from "../../src/telemetry/channels.ts";
import type { Engine } from "../../src/engine/gateway.ts";
import { chat, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.ts";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN = "b7ad6b7169203331";
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/** `traceparent` as an upstream received it: version, trace id, parent span id, flags. */
function parsed(header: unknown): { traceId: string; spanId: string; flags: string } {
  assert.equal(typeof header, "string", "the upstream got a traceparent");
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header as string);
  assert.ok(m, `a W3C traceparent: ${String(header)}`);
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

interface Traced {
  receiver: OtlpReceiver;
  upstream: MockUpstream;
  gw: TestGateway;
}

/**
 * A receiver, one mock upstream ("up", model gpt-a behind the public name
 * "chat") and a gateway with the top-level sections `extra` gives (given the
 * receiver); runs `fn`, then closes all three.
 */
async function withTraced(extra: (receiver: OtlpReceiver) => Record<string, unknown>, fn: (t: Traced) => Promise<void>, options: Parameters<typeof startGateway>[1] = {}): Promise<void> {
  const receiver = await startOtlpReceiver();
  const upstream = await startMockUpstream();
  const gw = await startGateway(
    {
      providers: { up: { type: "openai", base_url: upstream.url, api_key: "k1" } },
      models: { chat: { targets: [{ provider: "up", model: "gpt-a" }] } },
      ...extra(receiver),
    },
    options,
  );
  try {
    await fn({ receiver, upstream, gw });
  } finally {
    await gw.close();
    await upstream.close();
    await receiver.close();
  }
}

/** Resolves once `engine` has published `count` request ends (the tracer, subscribed first, has ended their spans). */
function requestsEnded(engine: Engine, count = 1): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = observeGateway(engine, {
      requestEnd: () => {
        if (++seen < count) return;
        stop();
        resolve();
      },
    });
  });
}

describe("tracing on", () => {
  let receiver: OtlpReceiver;
  let primary: MockUpstream;
  let backup: MockUpstream;
  let gw: TestGateway;

  before(async () => {
    receiver = await startOtlpReceiver();
    primary = await startMockUpstream();
    backup = await startMockUpstream();
    gw = await startGateway({
      defaults: { breaker: false, retry_budget: false },
      providers: {
        primary: { type: "openai", base_url: primary.url, api_key: "k1" },
        backup: { type: "openai", base_url: backup.url, api_key: "k2" },
        claude: { type: "anthropic", base_url: primary.url, api_key: "k3" },
      },
      models: {
        chat: {
          targets: [
            { provider: "primary", model: "gpt-a" },
            { provider: "backup", model: "gpt-b", priority: 1 },
          ],
          retry: { attempts: 3, base_delay: "1ms", max_delay: "1ms" },
        },
        translated: { targets: ["claude/claude-sonnet-4-5"] },
      },
      telemetry: { otlp_endpoint: receiver.url, service_name: "gateway-under-test", headers: { "x-collector-key": "collector-secret" } },
    });
  });
  after(async () => {
    await gw.close();
    await primary.close();
    await backup.close();
    await receiver.close();
  });
  beforeEach(() => {
    primary.reset();
    backup.reset();
    receiver.spans.length = 0;
  });

  /** Sends what has ended and returns the spans of one trace: the request's and its attempts' in start order. */
  async function traceOf(traceId: string): Promise<{ request: ReceivedSpan; attempts: ReceivedSpan[] }> {
    await gw.engine.tracing!.flush();
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const requests = spans.filter((s) => s.kind === SERVER);
    assert.equal(requests.length, 1, "one request span");
    const attempts = spans.filter((s) => s.kind === CLIENT).sort((a, b) => a.startMs - b.startMs);
    return { request: requests[0], attempts };
  }

  test("the request span continues the client's trace; the attempt is its child and goes upstream with its own traceparent", async () => {
    const res = await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: TRACEPARENT } });
    const { request, attempts } = await traceOf(TRACE_ID);

    assert.equal(request.parentSpanId, CLIENT_SPAN);
    assert.equal(request.name, "chat chat");
    assert.equal(attempts.length, 1);
    const [attempt] = attempts;
    assert.equal(attempt.parentSpanId, request.spanId);
    assert.equal(attempt.name, "chat gpt-a");

    const sent = parsed(primary.requests[0].headers.traceparent);
    assert.deepEqual(sent, { traceId: TRACE_ID, spanId: attempt.spanId, flags: "01" });

    const usage = (res as unknown as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert.deepEqual(
      {
        op: request.attributes["gen_ai.operation.name"],
        model: request.attributes["gen_ai.request.model"],
        responseModel: request.attributes["gen_ai.response.model"],
        provider: request.attributes["gen_ai.provider.name"],
        target: request.attributes["switchyard.target"],
        status: request.attributes["http.response.status_code"],
        attempts: request.attributes["switchyard.attempts"],
        input: request.attributes["gen_ai.usage.input_tokens"],
        output: request.attributes["gen_ai.usage.output_tokens"],
      },
      { op: "chat", model: "chat", responseModel: "gpt-a", provider: "openai", target: "primary/gpt-a", status: 200, attempts: 1, input: usage.prompt_tokens, output: usage.completion_tokens },
    );
    assert.equal(request.status.code, 0, "a success leaves the status unset");
    assert.deepEqual(
      {
        model: attempt.attributes["gen_ai.request.model"],
        provider: attempt.attributes["gen_ai.provider.name"],
        configured: attempt.attributes["switchyard.provider"],
        target: attempt.attributes["switchyard.target"],
        status: attempt.attributes["http.response.status_code"],
        address: attempt.attributes["server.address"],
        port: attempt.attributes["server.port"],
        input: attempt.attributes["gen_ai.usage.input_tokens"],
      },
      {
        model: "gpt-a",
        provider: "openai",
        configured: "primary",
        target: "primary/gpt-a",
        status: 200,
        address: "127.0.0.1",
        port: Number(new URL(primary.url).port),
        input: usage.prompt_tokens,
      },
    );
    assert.ok(request.startMs <= attempt.startMs && attempt.endMs <= request.endMs, "the attempt lies within the request");
    assert.equal(request.resource["service.name"], "gateway-under-test");
    assert.equal(receiver.requests.at(-1)!["x-collector-key"], "collector-secret", "the configured export headers are sent");
  });

  test("a failed-over request has two attempt spans under the request's, the first in error; each upstream saw its own", async () => {
    primary.setFault("status=503");
    await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: TRACEPARENT } });
    const { request, attempts } = await traceOf(TRACE_ID);

    assert.equal(attempts.length, 2);
    const [failed, answered] = attempts;
    for (const a of attempts) assert.equal(a.parentSpanId, request.spanId);
    assert.equal(failed.attributes["switchyard.target"], "primary/gpt-a");
    assert.equal(failed.status.code, ERROR);
    assert.equal(failed.attributes["error.type"], "SY_ERR_UPSTREAM_STATUS");
    assert.equal(failed.attributes["http.response.status_code"], 503);
    assert.equal(answered.attributes["switchyard.target"], "backup/gpt-b");
    assert.equal(answered.status.code, 0);
    assert.equal(answered.attributes["http.response.status_code"], 200);

    assert.equal(parsed(primary.requests[0].headers.traceparent).spanId, failed.spanId);
    assert.equal(parsed(backup.requests[0].headers.traceparent).spanId, answered.spanId);
    assert.equal(request.attributes["switchyard.target"], "backup/gpt-b");
    assert.equal(request.attributes["switchyard.attempts"], 2);
    assert.equal(request.status.code, 0, "the client got its answer");
  });

  test("a request that fails outright marks its span and every attempt's in error", async () => {
    primary.setFault("status=503");
    backup.setFault("status=503");
    await assert.rejects(gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: TRACEPARENT } }));
    const { request, attempts } = await traceOf(TRACE_ID);
    assert.equal(request.status.code, ERROR);
    assert.equal(request.attributes["error.type"], "SY_ERR_UPSTREAM_STATUS");
    assert.ok(request.attributes["http.response.status_code"] as number >= 500);
    assert.ok(attempts.length >= 2);
    for (const a of attempts) assert.equal(a.status.code, ERROR);
  });

  test("a streamed answer's attempt span lasts until the stream ends and carries its usage", async () => {
    const ended = requestsEnded(gw.engine);
    const stream = await gw.client.chat.completions.create({ ...chat("chat"), stream: true, stream_options: { include_usage: true } } as never, {
      headers: { traceparent: TRACEPARENT },
    });
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream as unknown as AsyncIterable<{ usage?: typeof usage }>) if (chunk.usage) usage = chunk.usage;
    await ended;
    const { request, attempts } = await traceOf(TRACE_ID);
    assert.ok(usage !== undefined);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].attributes["gen_ai.usage.output_tokens"], usage.completion_tokens);
    assert.equal(request.attributes["gen_ai.usage.output_tokens"], usage.completion_tokens);
    assert.equal(request.attributes["switchyard.stream"], true);
    assert.ok(attempts[0].endMs <= request.endMs);
  });

  test("a request translated for another API's upstream carries the trace too", async () => {
    await gw.client.chat.completions.create(chat("translated") as never, { headers: { traceparent: TRACEPARENT } });
    assert.equal(primary.requests[0].path, "/v1/messages");
    const { attempts } = await traceOf(TRACE_ID);
    assert.equal(attempts[0].attributes["gen_ai.provider.name"], "anthropic");
    assert.deepEqual(parsed(primary.requests[0].headers.traceparent), { traceId: TRACE_ID, spanId: attempts[0].spanId, flags: "01" });
  });

  test("an Anthropic client's Messages request is traced the same way, as a chat", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: "client-key-not-forwarded", maxRetries: 0 });
    const msg = await client.messages.create(
      { model: "translated", max_tokens: 64, messages: [{ role: "user", content: "hi" }] },
      { headers: { traceparent: TRACEPARENT } },
    );
    const { request, attempts } = await traceOf(TRACE_ID);
    assert.equal(request.attributes["gen_ai.operation.name"], "chat");
    assert.equal(request.attributes["gen_ai.usage.output_tokens"], msg.usage.output_tokens);
    assert.equal(attempts[0].attributes["gen_ai.provider.name"], "anthropic");
    assert.equal(parsed(primary.requests[0].headers.traceparent).spanId, attempts[0].spanId);
  });

  test("without a traceparent the request span starts a trace, and the upstream joins it", async () => {
    await gw.client.chat.completions.create(chat("chat") as never);
    const sent = parsed(primary.requests[0].headers.traceparent);
    const { request, attempts } = await traceOf(sent.traceId);
    assert.notEqual(sent.traceId, TRACE_ID);
    assert.equal(request.parentSpanId, "");
    assert.equal(attempts[0].spanId, sent.spanId);
  });

  test("a malformed traceparent is ignored: a new trace starts", async () => {
    await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: `00-${"0".repeat(32)}-${CLIENT_SPAN}-01` } });
    const sent = parsed(primary.requests[0].headers.traceparent);
    assert.notEqual(sent.traceId, "0".repeat(32));
    const { request } = await traceOf(sent.traceId);
    assert.equal(request.parentSpanId, "");
  });

  test("tracestate goes upstream with the trace", async () => {
    await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: TRACEPARENT, tracestate: "vendor=opaque-1" } });
    assert.equal(primary.requests[0].headers.tracestate, "vendor=opaque-1");
    assert.equal(parsed(primary.requests[0].headers.traceparent).traceId, TRACE_ID);
  });

  test("a client's unsampled trace is not recorded, but its context still goes upstream", async () => {
    const unsampled = "1af7651916cd43dd8448eb211c80319c";
    await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: `00-${unsampled}-${CLIENT_SPAN}-00` } });
    const sent = parsed(primary.requests[0].headers.traceparent);
    assert.equal(sent.traceId, unsampled);
    assert.equal(sent.flags, "00");
    await gw.engine.tracing!.flush();
    assert.equal(receiver.spans.filter((s) => s.traceId === unsampled).length, 0);
  });
});

describe("closing the engine", () => {
  test("sends the spans left, ending those of requests it cuts short", async () => {
    await withTraced(
      (receiver) => ({ telemetry: { otlp_endpoint: `${receiver.url}/v1/traces` } }),
      async ({ receiver, upstream, gw }) => {
          await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: TRACEPARENT } });
          upstream.setFault("stall-headers");
          const held = new Promise((resolve) => upstream.once("request", resolve));
          const cut = gw.client.chat.completions.create(chat("chat") as never).catch((err: unknown) => err);
          await held;
          await gw.engine.close();
          assert.ok((await cut) instanceof Error, "the held request failed");
          const done = receiver.spans.filter((s) => s.traceId === TRACE_ID);
          assert.equal(done.length, 2, "the finished request's spans were sent without a flush");
          const held2 = receiver.spans.filter((s) => s.traceId !== TRACE_ID);
          const request = held2.find((s) => s.kind === SERVER);
          const attempt = held2.find((s) => s.kind === CLIENT);
          assert.equal(request?.status.code, ERROR);
          assert.equal(request?.attributes["error.type"], "SY_ERR_SHUTTING_DOWN");
          assert.equal(attempt?.status.code, ERROR);
          assert.equal(attempt?.parentSpanId, request?.spanId);
      },
    );
  });
});

describe("a collector that refuses spans", () => {
  test("is reported once at warn (no URL, no headers), its recovery once at info; requests go on", async () => {
    const lines: Array<{ level: string; obj: object; msg?: string }> = [];
    const logger = {
      debug: () => {},
      info: (obj: object, msg?: string) => lines.push({ level: "info", obj, msg }),
      warn: (obj: object, msg?: string) => lines.push({ level: "warn", obj, msg }),
      error: (obj: object, msg?: string) => lines.push({ level: "error", obj, msg }),
    };
    const exportLines = () => lines.filter((l) => /trace export/.test(l.msg ?? ""));
    await withTraced(
      (receiver) => ({ telemetry: { otlp_endpoint: receiver.url, headers: { authorization: "Bearer collector-secret" } } }),
      async ({ receiver, gw }) => {
        const flush = () => gw.engine.tracing!.flush().catch(() => {});
          receiver.refuseWith = 400;
          for (let i = 0; i < 2; i++) {
            await gw.client.chat.completions.create(chat("chat") as never);
            await flush();
          }
          assert.equal(receiver.requests.length, 2, "both batches were offered");
          assert.deepEqual(exportLines().map((l) => l.level), ["warn"]);
          const text = JSON.stringify(exportLines());
          assert.ok(!text.includes("collector-secret") && !text.includes(receiver.url), text);

          receiver.refuseWith = undefined;
          await gw.client.chat.completions.create(chat("chat") as never);
          await flush();
          assert.deepEqual(exportLines().map((l) => l.level), ["warn", "info"]);
          assert.equal(receiver.spans.length, 2, "the request after recovery was exported");
      },
      { logger },
    );
  });
});

describe("with the response cache", () => {
  test("a miss carries the client's trace upstream; a hit gets a request span of its own, marked, without attempts", async () => {
    await withTraced(
      (receiver) => ({ cache: { enabled: true }, telemetry: { otlp_endpoint: receiver.url } }),
      async ({ receiver, upstream, gw }) => {
          const traceparent = (span: string) => ({ headers: { traceparent: `00-${TRACE_ID}-${span}-01` } });
          await gw.client.chat.completions.create(chat("chat") as never, traceparent("1111111111111111"));
          await gw.client.chat.completions.create(chat("chat") as never, traceparent("2222222222222222"));
          assert.equal(upstream.requests.length, 1, "the second was answered from the cache");
          await gw.engine.tracing!.flush();
          const spans = receiver.spans.filter((s) => s.traceId === TRACE_ID);
          const miss = spans.find((s) => s.kind === SERVER && s.parentSpanId === "1111111111111111");
          const hit = spans.find((s) => s.kind === SERVER && s.parentSpanId === "2222222222222222");
          assert.ok(miss !== undefined && hit !== undefined, JSON.stringify(spans.map((s) => [s.name, s.parentSpanId])));
          assert.equal(hit.attributes["switchyard.cache"], "hit");
          assert.equal(miss.attributes["switchyard.cache"], undefined);
          const attempts = spans.filter((s) => s.kind === CLIENT);
          assert.equal(attempts.length, 1);
          assert.equal(attempts[0].parentSpanId, miss.spanId);
          assert.equal(parsed(upstream.requests[0].headers.traceparent).spanId, attempts[0].spanId);
      },
    );
  });
});
