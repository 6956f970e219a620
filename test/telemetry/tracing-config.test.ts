/** The `telemetry:` section, tracing from the environment, and the attribute names beside OpenTelemetry's own. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as semconv from "@opentelemetry/semantic-conventions";
import * as incubating from "@opentelemetry/semantic-conventions/incubating";
import { configFromEnv, resolveConfig } from "../../src/config/index.ts";
import * as names from "../../src/telemetry/tracing-attributes.ts";
import { minimal, problemsOf } from "../config/fixtures.ts";

const withTelemetry = (telemetry: unknown) => ({ ...minimal(), telemetry });

describe("telemetry config", () => {
  test("an endpoint turns tracing on, posting to its /v1/traces, with the defaults filled in", () => {
    const { telemetry } = resolveConfig(withTelemetry({ otlp_endpoint: "http://collector:4318/" }), { env: {} });
    assert.deepEqual(telemetry, { tracing: { url: "http://collector:4318/v1/traces", serviceName: "switchyard", sampleRatio: 1, headers: {} } });
  });

  test("a URL that already names /v1/traces is kept; the other keys are read", () => {
    const raw = withTelemetry({
      otlp_endpoint: "${COLLECTOR}",
      service_name: "edge-gateway",
      sample_ratio: 0.25,
      headers: { "x-api-key": "${OTLP_TOKEN}" },
    });
    const { telemetry } = resolveConfig(raw, { env: { COLLECTOR: "https://otel.example.com/v1/traces", OTLP_TOKEN: "t0ken" } });
    assert.deepEqual(telemetry?.tracing, { url: "https://otel.example.com/v1/traces", serviceName: "edge-gateway", sampleRatio: 0.25, headers: { "x-api-key": "t0ken" } });
  });

  test("no endpoint, or an empty one, leaves tracing off", () => {
    assert.equal(resolveConfig(minimal(), { env: {} }).telemetry, undefined);
    assert.equal(resolveConfig(withTelemetry({ service_name: "x" }), { env: {} }).telemetry, undefined);
    assert.equal(resolveConfig(withTelemetry({ otlp_endpoint: "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" }), { env: {} }).telemetry, undefined);
  });

  test("bad values are reported by path, and header values are not quoted", () => {
    const problems = problemsOf(
      withTelemetry({ otlp_endpoint: "grpc://collector:4317", sample_ratio: 0, headers: { "bad name": "secret-value" }, sampler: "x" }),
    );
    assert.deepEqual(problems.sort(), [
      'telemetry.headers["bad name"]: invalid header name',
      "telemetry.otlp_endpoint: expected an http:// or https:// URL",
      "telemetry.sample_ratio: expected a number > 0 and ≤ 1",
      "telemetry.sampler: unknown key",
    ]);
    assert.ok(!problems.join("\n").includes("secret-value"));
  });
});

describe("tracing from the environment, without a config file", () => {
  test("OTEL_EXPORTER_OTLP_ENDPOINT turns it on, at its /v1/traces, named by OTEL_SERVICE_NAME", () => {
    const config = configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SERVICE_NAME: "gw" });
    assert.deepEqual(config.telemetry?.tracing, { url: "http://127.0.0.1:4318/v1/traces", serviceName: "gw", sampleRatio: 1, headers: {} });
  });

  test("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the traces URL itself, and wins", () => {
    const config = configFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://a:4318/custom", OTEL_EXPORTER_OTLP_ENDPOINT: "http://b:4318" });
    assert.equal(config.telemetry?.tracing?.url, "http://a:4318/custom");
  });

  test("neither set: off; a bad one: a config error naming the variable", () => {
    assert.equal(configFromEnv({}).telemetry, undefined);
    assert.throws(() => configFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }), /OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/);
  });
});

test("the attribute names are OpenTelemetry's", () => {
  assert.deepEqual(
    [names.ATTR_ERROR_TYPE, names.ATTR_HTTP_RESPONSE_STATUS_CODE, names.ATTR_SERVER_ADDRESS, names.ATTR_SERVER_PORT, names.ATTR_SERVICE_NAME],
    [semconv.ATTR_ERROR_TYPE, semconv.ATTR_HTTP_RESPONSE_STATUS_CODE, semconv.ATTR_SERVER_ADDRESS, semconv.ATTR_SERVER_PORT, semconv.ATTR_SERVICE_NAME],
  );
  assert.deepEqual(
    [
      names.GEN_AI_OPERATION_NAME,
      names.GEN_AI_PROVIDER_NAME,
      names.GEN_AI_REQUEST_MODEL,
      names.GEN_AI_RESPONSE_MODEL,
      names.GEN_AI_USAGE_INPUT_TOKENS,
      names.GEN_AI_USAGE_OUTPUT_TOKENS,
    ],
    [
      incubating.ATTR_GEN_AI_OPERATION_NAME,
      incubating.ATTR_GEN_AI_PROVIDER_NAME,
      incubating.ATTR_GEN_AI_REQUEST_MODEL,
      incubating.ATTR_GEN_AI_RESPONSE_MODEL,
      incubating.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
      incubating.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
    ],
  );
  // The provider and operation values used are the conventions' own.
  assert.equal(names.providerName("gemini"), incubating.GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI);
  assert.equal(names.providerName("azure"), incubating.GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI);
  assert.equal(names.providerName("mistral"), incubating.GEN_AI_PROVIDER_NAME_VALUE_MISTRAL_AI);
  assert.equal(names.providerName("xai"), incubating.GEN_AI_PROVIDER_NAME_VALUE_X_AI);
  assert.equal(names.operationName("messages"), incubating.GEN_AI_OPERATION_NAME_VALUE_CHAT);
  assert.equal(names.operationName("completions"), incubating.GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION);
  assert.equal(names.operationName("embeddings"), incubating.GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS);
});

test("the admin API's effective config masks the export headers and a password in the collector URL", async () => {
  const { maskedConfig, MASK } = await import("../../src/server/admin-config.ts");
  const config = resolveConfig(withTelemetry({ otlp_endpoint: "https://gw:pa55word@otel.example.com", headers: { "x-honeycomb-team": "team-secret" } }), { env: {} });
  const shown = maskedConfig(config) as { telemetry: { tracing: { url: string; headers: Record<string, string> } } };
  assert.deepEqual(shown.telemetry.tracing.headers, { "x-honeycomb-team": MASK });
  assert.ok(!JSON.stringify(shown).includes("pa55word") && !JSON.stringify(shown).includes("team-secret"));
  assert.equal(config.telemetry?.tracing?.headers["x-honeycomb-team"], "team-secret", "the config itself is untouched");
});

test("a reload that changes the telemetry section says it needs a restart", async () => {
  const { serverRestartKeys } = await import("../../src/engine/switches.ts");
  const off = resolveConfig(minimal(), { env: {} });
  const on = resolveConfig(withTelemetry({ otlp_endpoint: "http://127.0.0.1:4318" }), { env: {} });
  assert.deepEqual(serverRestartKeys(off, on), ["telemetry"]);
  assert.deepEqual(serverRestartKeys(on, on), []);
});
