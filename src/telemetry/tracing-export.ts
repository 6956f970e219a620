import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { TracingConfig } from "../config/types.ts";
import type { Logger } from "./log.ts";
import type { Otel } from "./tracing-sdk.ts";

const MAX_REASON = 200;

/**
 * The OTLP/HTTP exporter (JSON) to the configured collector. The exporter
 * itself still reads the standard OTEL_EXPORTER_OTLP_* variables for what the
 * config leaves out (timeout, compression, more headers); the config's
 * headers win over OTEL_EXPORTER_OTLP_HEADERS.
 *
 * A collector that stops taking spans is reported once, at warn, and its
 * recovery once, at info, rather than a line per batch. Neither line names
 * the URL or the headers, which may hold credentials.
 */
export function otlpExporter(otel: Otel, config: TracingConfig, log: Logger | undefined): SpanExporter {
  const inner = new otel.exporter.OTLPTraceExporter({ url: config.url, headers: { ...config.headers } });
  const { SUCCESS } = otel.core.ExportResultCode;
  if (log === undefined) return inner;
  let failing = false;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code === SUCCESS) {
          if (failing) log.info({}, "trace export works again");
          failing = false;
        } else if (!failing) {
          failing = true;
          const reason = (result.error?.message ?? "unknown error").slice(0, MAX_REASON);
          log.warn({ reason, spans: spans.length }, "trace export failed; spans are dropped until the collector takes them again");
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
}
