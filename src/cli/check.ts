import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { configWarnings } from "../config/warnings.ts";
import { Engine } from "../engine/gateway.ts";
import type { ProviderHealth } from "../upstream/health.ts";

/** Longer upstream messages are cut: the table is for reading, the logs keep the rest. */
const MAX_MESSAGE = 300;

/**
 * Reachable is not enough: a provider that answers the model listing with
 * anything but a 2xx (a wrong base_url's 404, a refused key's 401, a 5xx)
 * will fail real requests too.
 */
function verdict(h: ProviderHealth): string {
  if (h.disabled === true) return "disabled";
  // An upstream without a model listing passes when it refuses a chat for a model that cannot exist.
  if (h.healthy === true) return "ok";
  if (h.status === undefined) return h.reachable ? "ok" : "UNREACHABLE";
  if (h.status >= 200 && h.status < 300) return "ok";
  if (h.status === 401 || h.status === 403) return "AUTH FAILED";
  if (h.status === 404) return "NOT FOUND";
  return "FAILED";
}

/** What the upstream said, on one line; a 404 also gets the usual cause. */
function message(h: ProviderHealth): string {
  let text = (h.last_error ?? "").replace(/\s*[\r\n]+\s*/g, " ").trim();
  if (text.length > MAX_MESSAGE) text = `${text.slice(0, MAX_MESSAGE - 1)}…`;
  if (h.status === 404) text += `${text ? " " : ""}(does base_url lack the API's version path, such as /v1?)`;
  return text;
}

/** Validates the config, probes every provider once (as its health checks would) and prints a table. Exits 1 unless every enabled provider passed. */
export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: "string", short: "c" } } });
  const config = await loadConfig({ path: values.config });
  const engine = new Engine(config);
  try {
    const report = await engine.providerHealth();
    const rows = Object.entries(report).map(([name, h]) => [
      name,
      h.type,
      verdict(h),
      h.status === undefined ? "-" : String(h.status),
      h.response_time_ms === undefined ? "-" : `${h.response_time_ms} ms`,
      message(h),
    ]);
    const header = ["provider", "type", "result", "status", "time", "error"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    console.log(`config ok: ${config.source} (${Object.keys(config.providers).length} providers, ${Object.keys(config.models).length} models)`);
    for (const warning of configWarnings(config)) process.stderr.write(`warning: ${warning}\n`);
    if (rows.length > 0) console.log(line(header));
    for (const r of rows) console.log(line(r));
    return Object.values(report).every((h) => verdict(h) === "ok" || verdict(h) === "disabled") ? 0 : 1;
  } finally {
    await engine.close();
  }
}
