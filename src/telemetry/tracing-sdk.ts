/**
 * The OpenTelemetry packages, loaded on first use. Loading them costs about
 * a tenth of a second and a few megabytes of heap at startup (in every
 * worker), which a gateway without tracing should not pay: so nothing here
 * is imported at the top level but types, and `otel()` requires the
 * packages (their CommonJS builds, so that the engine can stay synchronous)
 * when a gateway with tracing is built.
 */
import { createRequire } from "node:module";
import type * as Api from "@opentelemetry/api";
import type * as Core from "@opentelemetry/core";
import type * as Exporter from "@opentelemetry/exporter-trace-otlp-http";
import type * as Resources from "@opentelemetry/resources";
import type * as SdkTrace from "@opentelemetry/sdk-trace";

export interface Otel {
  api: typeof Api;
  core: typeof Core;
  resources: typeof Resources;
  sdk: typeof SdkTrace;
  exporter: typeof Exporter;
}

const require = createRequire(import.meta.url);
let loaded: Otel | undefined;

export function otel(): Otel {
  loaded ??= {
    api: require("@opentelemetry/api") as typeof Api,
    core: require("@opentelemetry/core") as typeof Core,
    resources: require("@opentelemetry/resources") as typeof Resources,
    sdk: require("@opentelemetry/sdk-trace") as typeof SdkTrace,
    exporter: require("@opentelemetry/exporter-trace-otlp-http") as typeof Exporter,
  };
  return loaded;
}

/** Whether the packages have been loaded in this process (they are not until a gateway traces). */
export function otelLoaded(): boolean {
  return loaded !== undefined;
}
