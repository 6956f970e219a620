/**
 * `switchyard mock`: runs the fake OpenAI upstream as a standalone process for
 * demos and benchmarks, until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { parseFault } from "../mock/faults.ts";
import { startMockUpstream } from "../mock/server.ts";

const USAGE = `Usage: switchyard mock [options]

  --host <host>       address to listen on (default 127.0.0.1)
  --port <port>       port to listen on (default 9001, 0 = any free port)
  --latency <dur>     delay before response headers, e.g. 50ms, 2s, 150
  --ttft <dur>        delay before the first streamed token
  --tps <n>           tokens per second when streaming (default 0 = all at once)
  --tokens <n>        reply length in tokens (default 12)
  --fault <spec>      fault for every request, e.g. "status=503;retry-after=2;times=3"
  --models <a,b,...>  model ids listed by GET /v1/models
  --api-key <key>     require "Authorization: Bearer <key>"
  --help              show this help

Per-request overrides: x-mock-fault, x-mock-latency, x-mock-ttft, x-mock-tps, x-mock-tokens.
`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Milliseconds from `50ms`, `2s`, `1m` or a bare number of ms. */
export function parseDurationMs(flag: string, text: string): number {
  const m = DURATION.exec(text.trim());
  if (m === null) throw new Error(`--${flag}: expected a duration like 50ms, 2s or 150, got '${text}'`);
  return Number(m[1]) * UNIT_MS[m[2] ?? "ms"];
}

function count(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${flag}: expected a non-negative ${integer ? "integer" : "number"}, got '${text}'`);
  }
  return n;
}

export async function runMock(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "9001" },
      latency: { type: "string" },
      ttft: { type: "string" },
      tps: { type: "string" },
      tokens: { type: "string" },
      fault: { type: "string" },
      models: { type: "string" },
      "api-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const port = count("port", values.port, true);
  if (port > 65535) throw new Error(`--port: must be at most 65535, got '${values.port}'`);
  if (values.fault !== undefined) {
    try {
      parseFault(values.fault);
    } catch (err) {
      throw new Error(`--fault: ${(err as Error).message}`);
    }
  }

  const mock = await startMockUpstream({
    host: values.host,
    port,
    latencyMs: values.latency === undefined ? 0 : parseDurationMs("latency", values.latency),
    ttftMs: values.ttft === undefined ? 0 : parseDurationMs("ttft", values.ttft),
    tokensPerSecond: values.tps === undefined ? 0 : count("tps", values.tps, false),
    tokens: values.tokens === undefined ? undefined : count("tokens", values.tokens, true),
    fault: values.fault,
    models: values.models?.split(",").map((s) => s.trim()).filter((s) => s !== ""),
    apiKey: values["api-key"],
    // A long-running process must not accumulate every request it has served.
    record: false,
  });
  process.stdout.write(`mock upstream listening on ${mock.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await mock.close();
}
