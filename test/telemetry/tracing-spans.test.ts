/**
 * The tracer's bookkeeping, fed synthetic channel events on a fake clock and
 * exporting to memory: timings, duplicate request ids, a hedge that commits
 * after losing, statuses, and what close() ends.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { channels, type RequestEnd, type RequestStart, type StreamEnd } from "../../src/telemetry/channels.ts";
import { type AttemptInfo, Tracing } from "../../src/telemetry/tracing.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const CONFIG = { url: "http://127.0.0.1:9/v1/traces", serviceName: "unit", sampleRatio: 1, headers: {} };
const SERVER = 1;
const ERROR = 2;

let clock: FakeClock;
let exported: ReadableSpan[];
let gateway: object;
let tracing: Tracing;

const memory: SpanExporter = {
  export: (spans, done) => {
    exported.push(...spans);
    done({ code: 0 });
  },
  shutdown: async () => {},
};

const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
const start = (requestId: string, extra: Partial<RequestStart> = {}) =>
  channels.requestStart.publish({ gateway, requestId, op: "chat", model: "chat", stream: false, ...extra } satisfies RequestStart);
const end = (requestId: string, extra: Partial<RequestEnd> = {}) =>
  channels.requestEnd.publish({ gateway, requestId, model: "chat", stream: false, status: 200, attempts: 1, durationMs: 0, ...extra } as RequestEnd);
const streamEnd = (requestId: string, extra: Partial<StreamEnd> = {}) =>
  channels.streamEnd.publish({ gateway, requestId, target: "p/m", provider: "p", completed: true, durationMs: 0, ...extra } satisfies StreamEnd);
const attempt = (requestId: string, extra: Partial<AttemptInfo> = {}) =>
  tracing.startAttempt({ requestId, op: "chat", stream: false, target: "p/m", provider: "p", providerType: "openai", model: "m", origin: "https://api.example.com", ...extra });

async function spans(): Promise<ReadableSpan[]> {
  await tracing.flush();
  return exported;
}

beforeEach(() => {
  clock = new FakeClock();
  exported = [];
  gateway = {};
  tracing = new Tracing(CONFIG, gateway, { now: () => clock.now(), exporter: memory });
});
afterEach(() => tracing.close());

describe("spans from events", () => {
  test("times come from the gateway's clock, and the attempt nests in the request", async () => {
    const t0 = clock.now();
    start("r1");
    clock.advance(5);
    const a = attempt("r1");
    clock.advance(20);
    a.committed(200, { inputTokens: 7, outputTokens: 3 });
    clock.advance(5);
    end("r1", { target: "p/m", usage: { inputTokens: 7, outputTokens: 3 } });
    await tracing.close();
    const [att, req] = exported;
    assert.deepEqual([ms(req.startTime), ms(req.endTime)], [t0, t0 + 30]);
    assert.deepEqual([ms(att.startTime), ms(att.endTime)], [t0 + 5, t0 + 25]);
    assert.equal(att.parentSpanContext?.spanId, req.spanContext().spanId);
    assert.equal(req.kind, SERVER);
    assert.deepEqual(
      [att.attributes["server.address"], att.attributes["server.port"], att.attributes["gen_ai.usage.input_tokens"]],
      ["api.example.com", 443, 7],
    );
  });

  test("the traceparent handed upstream names the attempt's span, in the request's trace", async () => {
    start("r1");
    const a = attempt("r1");
    a.committed(200, undefined);
    end("r1");
    const [att, req] = await spans();
    assert.equal(a.headers.traceparent, `00-${req.spanContext().traceId}-${att.spanContext().spanId}-01`);
  });

  test("requests sharing an id: attempts go under the latest, and each request's span ends", async () => {
    start("dup", { model: "first" });
    start("dup", { model: "second" });
    attempt("dup").committed(200, undefined);
    end("dup");
    end("dup");
    const all = await spans();
    const requests = all.filter((s) => s.kind === SERVER);
    assert.deepEqual(requests.map((s) => s.name).sort(), ["chat first", "chat second"]);
    const second = requests.find((s) => s.name === "chat second")!;
    const att = all.find((s) => s.kind !== SERVER)!;
    assert.equal(att.parentSpanContext?.spanId, second.spanContext().spanId);
  });

  test("a streamed answer's span waits for the stream; a hedge that commits after losing ends at once", async () => {
    const t0 = clock.now();
    start("r1", { stream: true });
    const winner = attempt("r1", { stream: true, target: "p/a" });
    const loser = attempt("r1", { stream: true, target: "p/b" });
    clock.advance(10);
    winner.committed(200, undefined);
    clock.advance(10);
    loser.committed(200, undefined);
    assert.deepEqual(
      (await spans()).map((s) => [s.attributes["switchyard.target"], ms(s.endTime) - t0]),
      [["p/b", 20]],
      "only the loser has ended",
    );
    clock.advance(100);
    streamEnd("r1", { usage: { inputTokens: 1, outputTokens: 42 } });
    end("r1", { stream: true, target: "p/a" });
    const won = (await spans()).find((s) => s.attributes["switchyard.target"] === "p/a" && s.kind !== SERVER)!;
    assert.equal(ms(won.endTime) - t0, 120);
    assert.equal(won.attributes["gen_ai.usage.output_tokens"], 42);
  });

  test("a 4xx request keeps its status unset; a stream broken under its 200 is an error, its attempt too", async () => {
    start("bad");
    end("bad", { status: 400, code: "SY_ERR_BAD_REQUEST", message: "bad", attempts: 0 });
    start("broken", { stream: true });
    attempt("broken", { stream: true }).committed(200, undefined);
    streamEnd("broken", { completed: false, error: { code: "SY_ERR_IDLE_TIMEOUT", message: "idle" } });
    end("broken", { stream: true, status: 200, code: "SY_ERR_IDLE_TIMEOUT", message: "idle" });
    const all = await spans();
    const bad = all.find((s) => s.attributes["switchyard.request_id"] === "bad" && s.kind === SERVER)!;
    assert.deepEqual([bad.status.code, bad.attributes["error.type"]], [0, "SY_ERR_BAD_REQUEST"]);
    for (const s of all.filter((s) => s.attributes["switchyard.request_id"] === "broken")) {
      assert.deepEqual([s.status.code, s.attributes["error.type"]], [ERROR, "SY_ERR_IDLE_TIMEOUT"], s.name);
    }
  });

  test("an attempt of an unknown request is a root span; another gateway's events are not ours", async () => {
    channels.requestStart.publish({ gateway: {}, requestId: "elsewhere", op: "chat", model: "x", stream: false } satisfies RequestStart);
    attempt("elsewhere").failed({ code: "SY_ERR_UPSTREAM_CONNECT", message: "refused" });
    const all = await spans();
    assert.equal(all.length, 1);
    assert.equal(all[0].parentSpanContext, undefined);
    assert.equal(all[0].status.code, ERROR);
  });

  test("close ends what is open as cut short by the shutdown, and a late outcome changes nothing", async () => {
    start("r1");
    const a = attempt("r1");
    clock.advance(7);
    await tracing.close();
    a.failed({ code: "SY_ERR_SHUTTING_DOWN", message: "late" });
    end("r1");
    assert.equal(exported.length, 2);
    for (const s of exported) {
      assert.equal(s.attributes["error.type"], "SY_ERR_SHUTTING_DOWN");
      assert.equal(s.status.code, ERROR);
    }
    assert.equal(channels.requestStart.hasSubscribers, false, "close unsubscribed");
  });
});

test("sample_ratio records that share of new traces, decided on the trace id", async () => {
  await tracing.close();
  // The ratio sampler compares the trace id's 32-bit words, XORed, with ratio × 2³²: the first id is under half, the second over.
  const ids = ["00000000000000000000000000000001", "000000000000000000000000ffffffff"];
  let n = 0;
  const idGenerator = { generateTraceId: () => ids[n++], generateSpanId: () => (n + 1).toString(16).padStart(16, "0") };
  tracing = new Tracing({ ...CONFIG, sampleRatio: 0.5 }, gateway, { now: () => clock.now(), exporter: memory, idGenerator });
  for (const id of ["in", "out"]) {
    start(id);
    const a = attempt(id);
    assert.match(a.headers.traceparent, id === "in" ? /-01$/ : /-00$/, "the upstream learns the decision");
    a.committed(200, undefined);
    end(id);
  }
  const all = await spans();
  assert.deepEqual([...new Set(all.map((s) => s.attributes["switchyard.request_id"]))], ["in"]);
});

test("in process: createGateway traces into a given exporter, under the caller's trace context", async () => {
  const { createGateway } = await import("../../src/engine/create.ts");
  const got: ReadableSpan[] = [];
  const exporter: SpanExporter = { export: (s, done) => (got.push(...s), done({ code: 0 })), shutdown: async () => {} };
  const gw = await createGateway(
    { providers: { demo: { type: "demo" } }, models: { chat: { targets: ["demo/demo-1"] } }, telemetry: { otlp_endpoint: "http://127.0.0.1:9" } },
    { env: {}, demoTokenGapMs: 0, tracing: { exporter } },
  );
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  await gw.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }, { trace: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  await gw.close();
  assert.deepEqual(
    got.map((s) => [s.name, s.spanContext().traceId]),
    [
      ["chat demo-1", traceId],
      ["chat chat", traceId],
    ],
  );
  assert.equal(got[0].attributes["server.address"], undefined, "the demo provider has no address");
});

test("a request sharing another's upstream call gets a span marked coalesced, under its own client's trace", async () => {
  const traceId = "6af7651916cd43dd8448eb211c80319c";
  channels.cacheAnswer.publish({ gateway, requestId: "follower", op: "chat", model: "chat", status: "miss", coalesced: true, trace: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  channels.cacheAnswer.publish({ gateway, requestId: "leader", op: "chat", model: "chat", status: "miss", coalesced: false });
  const all = await spans();
  assert.equal(all.length, 1, "a request that goes upstream itself gets its span from the request events");
  assert.deepEqual([all[0].spanContext().traceId, all[0].parentSpanContext?.spanId, all[0].attributes["switchyard.cache"]], [traceId, "00f067aa0ba902b7", "coalesced"]);
});
