/**
 * The protocol between the orchestrator and its load-client processes: the
 * arguments go in as one JSON argv entry; progress comes back as
 * `EVENT {json}` lines and the outcome as one `RESULT {json}` line on stdout.
 */
import type { Context } from "./context.ts";
import { benchFile } from "./context.ts";
import { start } from "./procs.ts";

const EVENT = "EVENT ";
const RESULT = "RESULT ";

export interface WorkerRun<T> {
  result: T;
  command: string;
}

/** Runs bench/<script> pinned to the load CPUs; rejects on a non-zero exit, a missing result, or after `timeoutMs`. */
export async function runWorker<T>(
  ctx: Context,
  script: string,
  args: object,
  timeoutMs: number,
  onEvent?: (event: Record<string, unknown>) => void,
): Promise<WorkerRun<T>> {
  const proc = start({
    name: script,
    argv: [ctx.node, benchFile(script), JSON.stringify(args)],
    cpus: ctx.layout.loadCpus,
    nofile: ctx.nofile,
    stdin: true,
  });
  let result: T | undefined;
  proc.onLine((line) => {
    if (line.startsWith(RESULT)) result = JSON.parse(line.slice(RESULT.length)) as T;
    else if (line.startsWith(EVENT) && onEvent !== undefined) onEvent(JSON.parse(line.slice(EVENT.length)) as Record<string, unknown>);
  });
  const timer = setTimeout(() => void proc.stop(1000), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  if (code !== 0 || result === undefined) {
    throw new Error(`${script} failed (exit ${code}${result === undefined ? ", no result" : ""}):\n${proc.output.trim().slice(-2000)}`);
  }
  return { result, command: proc.command };
}

/** In a worker: its arguments. */
export function workerArgs<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("expected the worker arguments as one JSON argument");
  return JSON.parse(raw) as T;
}

export function emitEvent(event: object): void {
  process.stdout.write(`${EVENT}${JSON.stringify(event)}\n`);
}

export function emitResult(result: object): void {
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}

/** In a worker: exit if the orchestrator goes away (stdin closes) or the hard deadline passes. */
export function guardWorker(deadlineMs: number): void {
  process.stdin.on("end", () => process.exit(3));
  process.stdin.on("error", () => process.exit(3));
  process.stdin.resume();
  setTimeout(() => {
    process.stderr.write(`worker deadline of ${deadlineMs} ms passed\n`);
    process.exit(4);
  }, deadlineMs).unref();
}
