/**
 * Tracing off, in a process where no gateway has traced: the OpenTelemetry
 * packages are never loaded, no tracer or exporter exists, and a client's
 * traceparent does not reach the upstream.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { otelLoaded } from "../../src/telemetry/tracing-sdk.ts";
import { chat, startGateway, type TestGateway } from "../helpers/gateway.ts";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const SRC = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "src");

describe("tracing off", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startMockUpstream();
    gw = await startGateway({
      providers: { up: { type: "openai", base_url: upstream.url, api_key: "k1" } },
      models: { chat: { targets: [{ provider: "up", model: "gpt-a" }] } },
      // An unset ${OTLP_ENDPOINT:-} leaves the endpoint empty: tracing stays off.
      telemetry: { otlp_endpoint: "${OTLP_ENDPOINT:-}" },
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test("no tracer exists, and the client's traceparent does not go upstream", async () => {
    assert.equal(gw.engine.config.telemetry, undefined);
    assert.equal(gw.engine.tracing, undefined);
    await gw.client.chat.completions.create(chat("chat") as never, { headers: { traceparent: TRACEPARENT, tracestate: "vendor=x" } });
    const seen = upstream.requests[0].headers;
    assert.equal(seen.traceparent, undefined);
    assert.equal(seen.tracestate, undefined);
  });

  test("streams send none either", async () => {
    upstream.reset();
    const stream = await gw.client.chat.completions.create({ ...chat("chat"), stream: true } as never, { headers: { traceparent: TRACEPARENT } });
    for await (const _ of stream as unknown as AsyncIterable<unknown>);
    assert.equal(upstream.requests[0].headers.traceparent, undefined);
  });

  test("the OpenTelemetry packages were never loaded", () => {
    assert.equal(otelLoaded(), false);
  });

  test("only tracing-sdk.ts imports them as values; everything else takes types", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts") && entry.name !== "tracing-sdk.ts") {
          const text = readFileSync(path, "utf8");
          for (const m of text.matchAll(/^(import|export)\s+(?!type\b)[^;]*?from\s+"@opentelemetry\/[^"]+"/gms)) offenders.push(`${path}: ${m[0]}`);
          if (/import\(\s*"@opentelemetry\//.test(text)) offenders.push(`${path}: dynamic import`);
        }
      }
    };
    walk(SRC);
    assert.deepEqual(offenders, []);
  });
});
