/** An http(s) URL without trailing slashes, or undefined when `v` isn't one. */
export function normaliseBaseUrl(v: string): string | undefined {
  const trimmed = v.trim();
  if (!URL.canParse(trimmed)) return undefined;
  const { protocol } = new URL(trimmed);
  if (protocol !== "http:" && protocol !== "https:") return undefined;
  return trimmed.replace(/\/+$/, "");
}

/**
 * The OTLP/HTTP traces URL of a collector endpoint: its /v1/traces, as the
 * OTEL_EXPORTER_OTLP_ENDPOINT convention has it; a URL already ending in
 * /v1/traces is kept as it is.
 */
export function otlpTracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, "");
  return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
}
