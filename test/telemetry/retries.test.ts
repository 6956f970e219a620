import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { parsePrometheusText } from "./prom-text.ts";

let mock: MockUpstream;
let gw: TestGateway;
before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    providers: { up: { type: "openai", base_url: mock.url, breaker: false, retry_budget: false } },
    models: { chat: { targets: ["up/gpt-4o-mini"], retry: { attempts: 3, base_delay: "1ms", max_delay: "1ms" } } },
  });
});
after(async () => {
  await gw.close();
  await mock.close();
});

async function scrape(): Promise<(name: string, labels: Record<string, string>) => number | undefined> {
  const families = parsePrometheusText(await (await fetch(`${gw.url}/metrics`)).text());
  return (name, labels) => {
    for (const f of families.values()) {
      for (const s of f.samples) {
        if (s.name === name && Object.keys(labels).length === Object.keys(s.labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
      }
    }
    return undefined;
  };
}

test("a request answered on its second attempt counts one retry, one failed and one good attempt, and no overhead sample", async () => {
  mock.setFault("status=503", { times: 1 });
  const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
  assert.equal(res.status, 200);
  let m = await scrape();
  assert.equal(m("switchyard_retries_total", { model: "chat" }), 1);
  assert.equal(m("switchyard_upstream_attempts_total", { target: "up/gpt-4o-mini", outcome: "error" }), 1);
  assert.equal(m("switchyard_upstream_attempts_total", { target: "up/gpt-4o-mini", outcome: "success" }), 1);
  assert.equal(m("switchyard_requests_total", { model: "chat", target: "up/gpt-4o-mini", status: "200", outcome: "success" }), 1);
  assert.equal(m("switchyard_gateway_overhead_seconds_count", { model: "chat" }), undefined, "only first-attempt answers are measured");

  // A first-attempt answer adds an overhead sample and no retry.
  await post(`${gw.url}/v1/chat/completions`, chat("chat"));
  m = await scrape();
  assert.equal(m("switchyard_retries_total", { model: "chat" }), 1);
  assert.equal(m("switchyard_gateway_overhead_seconds_count", { model: "chat" }), 1);

  const report = (await (await fetch(`${gw.url}/v1/metrics`)).json()) as { targets: Record<string, Record<string, { requests: number; errors: number }>> };
  assert.deepEqual([report.targets["up/gpt-4o-mini"]["1m"].requests, report.targets["up/gpt-4o-mini"]["1m"].errors], [3, 1]);
});
