import type { GatewayConfig } from "../config/types.ts";
import { providerSecrets } from "../protocol/redact.ts";

export const MASK = "<redacted>";

/** Header names whose values are credentials (as protocol/redact.ts reads them). */
const SECRET_HEADER = /auth|key|token|secret|cookie|password/i;

/**
 * The effective config for GET /admin/config, with every secret masked:
 * provider keys, credential headers, gateway keys, the admin key, a password
 * in a base URL, and (belt and braces) any other string that holds one of
 * those secrets.
 */
export function maskedConfig(config: GatewayConfig): unknown {
  const secrets = providerSecrets(Object.values(config.providers));
  for (const k of config.server.auth.keys) secrets.push(k.key);
  if (config.server.adminKey !== undefined) secrets.push(config.server.adminKey);
  const known = secrets.filter((s) => s.length > 0);
  const providers: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(config.providers)) {
    const out: Record<string, unknown> = { ...p, baseUrl: maskUrl(p.baseUrl) };
    if (p.apiKey !== undefined) out.apiKey = MASK;
    if (p.apiKeys !== undefined) out.apiKeys = p.apiKeys.map(() => MASK);
    out.headers = Object.fromEntries(Object.entries(p.headers).map(([h, v]) => [h, SECRET_HEADER.test(h) ? MASK : v]));
    providers[name] = out;
  }
  const server: Record<string, unknown> = {
    ...config.server,
    auth: { ...config.server.auth, keys: config.server.auth.keys.map((k) => ({ name: k.name, key: MASK })) },
  };
  if (config.server.adminKey !== undefined) server.adminKey = MASK;
  const out: Record<string, unknown> = { ...config, server, providers };
  const tracing = config.telemetry?.tracing;
  // Every export header is a collector's credential, whatever its name (x-honeycomb-team …).
  if (tracing !== undefined) {
    const headers = Object.fromEntries(Object.keys(tracing.headers).map((h) => [h, MASK]));
    out.telemetry = { ...config.telemetry, tracing: { ...tracing, url: maskUrl(tracing.url), headers } };
  }
  return scrub(out, known);
}

function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === "" && u.username === "") return url;
    u.username = u.username === "" ? "" : "redacted";
    u.password = u.password === "" ? "" : "redacted";
    return u.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    return url;
  }
}

/** Any string still holding a known secret has it replaced. */
function scrub(value: unknown, secrets: string[]): unknown {
  if (typeof value === "string") {
    let s = value;
    for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join(MASK);
    return s;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, secrets)]));
  }
  return value;
}
