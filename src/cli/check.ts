import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { Engine } from "../engine/gateway.ts";

/** Reachable is not enough: a provider that refuses our key will fail every request. */
function verdict(reachable: boolean, status: number | undefined): string {
  if (!reachable) return "UNREACHABLE";
  if (status === 401 || status === 403) return "AUTH FAILED";
  return "ok";
}

/** Validates the config, probes every provider and prints a table. Exits 1 when any provider is unreachable. */
export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: "string", short: "c" } } });
  const config = await loadConfig({ path: values.config });
  const engine = new Engine(config);
  try {
    const report = await engine.providerHealth();
    const rows = Object.entries(report).map(([name, h]) => [
      name,
      h.type,
      verdict(h.reachable, h.status),
      h.status === undefined ? "-" : String(h.status),
      h.response_time_ms === undefined ? "-" : `${h.response_time_ms} ms`,
      h.last_error ?? "",
    ]);
    const header = ["provider", "type", "reachable", "status", "time", "error"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    console.log(`config ok: ${config.source} (${Object.keys(config.providers).length} providers, ${Object.keys(config.models).length} models)`);
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    return Object.values(report).every((h) => verdict(h.reachable, h.status) === "ok") ? 0 : 1;
  } finally {
    await engine.close();
  }
}
