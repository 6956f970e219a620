/**
 * `switchyard mock`: runs the fake OpenAI upstream as a standalone process for
 * demos and benchmarks, until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { parseDuration, parseSize } from "../config/duration.ts";
import { parseFault } from "../mock/faults.ts";
import { MAX_REPLY_TOKENS } from "../mock/limits.ts";
import { startMockUpstream } from "../mock/server.ts";

const USAGE = `Usage: switchyard mock [options]

  --host <host>       address to listen on (default 127.0.0.1)
  --port <port>       port to listen on (default 9001, 0 = any free port)
  --latency <dur>     delay before response headers, e.g. 50ms, 2s, 150
  --ttft <dur>        delay before the first streamed token
  --tps <n>           tokens per second when streaming (default 0 = all at once)
  --tokens <n>        reply length in tokens (default 12, at most ${MAX_REPLY_TOKENS})
  --fault <spec>      fault for every request, e.g. "status=503;retry-after=2;times=3"
  --models <a,b,...>  model ids listed by GET /v1/models
  --api-key <key>     require "Authorization: Bearer <key>"
  --max-body <size>   refuse larger request bodies with a 413 (default 16mb)
  --help              show this help

Per-request overrides: x-mock-fault, x-mock-latency, x-mock-ttft, x-mock-tps, x-mock-tokens.
`;

/** Runs one of the config file's parsers on a flag's value, naming the flag in its error. */
function flag<T>(name: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    throw new Error(`--${name}: ${(err as Error).message}`);
  }
}

function positiveSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes === 0) throw new Error(`a body limit of 0 would refuse every request`);
  return bytes;
}

function count(name: string, text: string, integer: boolean, max = Infinity): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name}: expected a non-negative ${integer ? "integer" : "number"}, got '${text}'`);
  }
  if (n > max) throw new Error(`--${name}: must be at most ${max}, got '${text}'`);
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
      "max-body": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const port = count("port", values.port, true, 65535);
  if (values.fault !== undefined) flag("fault", values.fault, parseFault);

  const mock = await startMockUpstream({
    host: values.host,
    port,
    latencyMs: values.latency === undefined ? 0 : flag("latency", values.latency, parseDuration),
    ttftMs: values.ttft === undefined ? 0 : flag("ttft", values.ttft, parseDuration),
    tokensPerSecond: values.tps === undefined ? 0 : count("tps", values.tps, false),
    tokens: values.tokens === undefined ? undefined : count("tokens", values.tokens, true, MAX_REPLY_TOKENS),
    maxBodyBytes: values["max-body"] === undefined ? undefined : flag("max-body", values["max-body"], positiveSize),
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
