import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { type Family, parsePrometheusText } from "./prom-text.ts";

describe("the strict exposition reader", () => {
  const ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n";
  test("reads a valid exposition", () => {
    assert.equal(parsePrometheusText(ok).get("a_total")!.samples[0].value, 3);
  });
  for (const [what, text] of [
    ["no trailing newline", ok.trimEnd()],
    ["a sample before its TYPE", "a 1\n"],
    ["an unquoted label value", "# TYPE a gauge\na{x=1} 1\n"],
    ["a bad escape", '# TYPE a gauge\na{x="\\t"} 1\n'],
    ["a repeated series", "# TYPE a gauge\na 1\na 2\n"],
    ["a negative counter", "# TYPE a counter\na -1\n"],
    ["a second TYPE", "# TYPE a gauge\n# TYPE a gauge\na 1\n"],
    ["different label names", '# TYPE a gauge\na{x="1"} 1\na{y="1"} 1\n'],
    ["buckets not cumulative", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ["+Inf unlike _count", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ["split families", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n"],
    ["a bad value", "# TYPE a gauge\na one\n"],
  ] as const) {
    test(`refuses ${what}`, () => assert.throws(() => parsePrometheusText(text)));
  }
});

/** The families GET /metrics must always declare, with their types and label names. */
const EXPECTED: Record<string, [Family["type"], string[]]> = {
  switchyard_requests_total: ["counter", ["model", "target", "status", "outcome"]],
  switchyard_upstream_attempts_total: ["counter", ["target", "outcome"]],
  switchyard_retries_total: ["counter", ["model"]],
  switchyard_hedges_total: ["counter", ["model"]],
  switchyard_fallbacks_total: ["counter", ["model"]],
  switchyard_tokens_total: ["counter", ["model", "target", "type"]],
  switchyard_cost_total: ["counter", ["model", "target"]],
  switchyard_cache_requests_total: ["counter", ["model", "status"]],
  switchyard_cache_coalesced_total: ["counter", ["model"]],
  gen_ai_server_request_duration_seconds: ["histogram", ["gen_ai_operation_name", "model", "target", "outcome"]],
  gen_ai_server_time_to_first_token_seconds: ["histogram", ["gen_ai_operation_name", "model", "target"]],
  gen_ai_client_operation_duration_seconds: ["histogram", ["target", "outcome"]],
  switchyard_gateway_overhead_seconds: ["histogram", ["model"]],
  switchyard_queue_wait_seconds: ["histogram", ["queue", "outcome"]],
  gen_ai_client_token_usage: ["histogram", ["gen_ai_operation_name", "gen_ai_token_type", "model", "target"]],
  switchyard_requests_in_flight: ["gauge", ["model"]],
  switchyard_queued_requests: ["gauge", ["queue"]],
  switchyard_upstream_in_flight: ["gauge", ["target"]],
  switchyard_target_health_score: ["gauge", ["target"]],
  switchyard_breaker_state: ["gauge", ["target", "state"]],
  switchyard_provider_breaker_state: ["gauge", ["provider", "state"]],
  switchyard_upstream_connections: ["gauge", ["origin", "state"]],
  process_cpu_seconds_total: ["counter", []],
  process_resident_memory_bytes: ["gauge", []],
  nodejs_heap_size_used_bytes: ["gauge", []],
  process_start_time_seconds: ["gauge", []],
};

let mock: MockUpstream;
let failing: MockUpstream;
let gw: TestGateway;
before(async () => {
  mock = await startMockUpstream();
  failing = await startMockUpstream({ fault: "status=500" });
  gw = await startGateway({
    providers: {
      up: { type: "openai", base_url: mock.url, api_key: "sk-secret-upstream-key-1234" },
      down: { type: "openai", base_url: failing.url, breaker: false },
    },
    models: { chat: { targets: ["up/gpt-4o-mini"] }, other: { targets: ["down/other"], fallbacks: ["chat"] } },
    pricing: { "gpt-4o-mini": { input: 0.15, output: 0.6 } },
  });
});
after(async () => {
  await gw.close();
  await mock.close();
  await failing.close();
});

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await fetch(`${gw.url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  return { text, families: parsePrometheusText(text) };
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length) return s.value;
    }
  }
  return undefined;
}

describe("GET /metrics", () => {
  test("declares every family with its type, and label names as documented", async () => {
    // A request first, so that the families fed by requests hold series whose labels can be checked.
    await gw.client.chat.completions.create(chat("chat") as never);
    const { families } = await scrape();
    for (const [name, [type, labels]] of Object.entries(EXPECTED)) {
      const f = families.get(name);
      assert.ok(f !== undefined, `${name} is missing`);
      assert.equal(f.type, type, name);
      assert.ok(f.help.length > 0, `${name} has no help`);
      for (const s of f.samples) {
        const names = Object.keys(s.labels).filter((k) => k !== "le");
        assert.deepEqual(names, labels, `${s.name} labels`);
      }
    }
  });

  test("numbers move with requests: counters, histograms, tokens, cost, fallbacks", async () => {
    const before = (await scrape()).families;
    const reqs = (f: Map<string, Family>) => value(f, "switchyard_requests_total", { model: "chat", target: "up/gpt-4o-mini", status: "200", outcome: "success" }) ?? 0;
    const durCount = (f: Map<string, Family>) =>
      value(f, "gen_ai_server_request_duration_seconds_count", { gen_ai_operation_name: "chat", model: "chat", target: "up/gpt-4o-mini", outcome: "success" }) ?? 0;
    const input = (f: Map<string, Family>) => value(f, "switchyard_tokens_total", { model: "chat", target: "up/gpt-4o-mini", type: "input" }) ?? 0;
    for (let i = 0; i < 3; i++) await gw.client.chat.completions.create(chat("chat") as never);
    const stream = await gw.client.chat.completions.create({ ...chat("chat"), stream: true, stream_options: { include_usage: true } } as never);
    for await (const _ of stream as unknown as AsyncIterable<unknown>) {
      // read to the end
    }
    // Its own target fails: the fallback model's answers.
    const fellBack = await post(`${gw.url}/v1/chat/completions`, chat("other"));
    assert.equal(fellBack.status, 200, "the fallback answered");
    const afterwards = (await scrape()).families;
    assert.equal(reqs(afterwards) - reqs(before), 4);
    assert.equal(durCount(afterwards) - durCount(before), 4);
    assert.equal(value(afterwards, "switchyard_requests_total", { model: "other", target: "up/gpt-4o-mini", status: "200", outcome: "success" }), 1);
    assert.ok(input(afterwards) > input(before));
    assert.equal(value(afterwards, "gen_ai_server_time_to_first_token_seconds_count", { gen_ai_operation_name: "chat", model: "chat", target: "up/gpt-4o-mini" }), 1);
    assert.ok(value(afterwards, "switchyard_cost_total", { model: "chat", target: "up/gpt-4o-mini" })! > 0);
    assert.ok(value(afterwards, "gen_ai_client_token_usage_count", { gen_ai_operation_name: "chat", gen_ai_token_type: "output", model: "chat", target: "up/gpt-4o-mini" })! >= 4);
    assert.equal(value(afterwards, "switchyard_fallbacks_total", { model: "other" }), 1);
    assert.equal(value(afterwards, "switchyard_upstream_attempts_total", { target: "down/other", outcome: "error" }), 3);
    assert.equal(value(afterwards, "switchyard_requests_in_flight", { model: "chat" }), 0);
    assert.equal(value(afterwards, "switchyard_target_health_score", { target: "up/gpt-4o-mini" }), 100);
    assert.equal(value(afterwards, "switchyard_breaker_state", { target: "up/gpt-4o-mini", state: "closed" }), 1);
    assert.equal(value(afterwards, "switchyard_breaker_state", { target: "up/gpt-4o-mini", state: "open" }), 0);
    assert.ok(value(afterwards, "process_resident_memory_bytes", {})! > 0);
    assert.ok(value(afterwards, "process_cpu_seconds_total", {})! >= value(before, "process_cpu_seconds_total", {})!);
    const origin = new URL(mock.url).origin;
    for (const state of ["connected", "free", "pending", "queued", "running", "size"]) {
      assert.equal(typeof value(afterwards, "switchyard_upstream_connections", { origin, state }), "number", `pool ${state}`);
    }
    assert.equal(value(afterwards, "switchyard_upstream_connections", { origin, state: "running" }), 0);
  });

  test("a model name nobody configured stays out of the labels, and no secret appears", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("up/made-up-name-12345"));
    assert.equal(res.status, 200);
    const { text, families } = await scrape();
    assert.ok(!text.includes("made-up-name-12345"));
    assert.ok(!text.includes("sk-secret-upstream-key"));
    assert.equal(value(families, "switchyard_requests_total", { model: "_other", target: "_other", status: "200", outcome: "success" }), 1);
  });
});
