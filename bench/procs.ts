/**
 * Child processes of the benchmark: started pinned to CPUs (taskset), with a
 * raised open-file limit, and tied to our lifetime (setpriv --pdeathsig) so
 * that none outlives the run even if this process is killed outright. Every
 * child is tracked and stopped on normal exit, on errors and on SIGINT/SIGTERM.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { processTree } from "./proc-stats.ts";

export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

const HAS_TASKSET = hasCommand("taskset");
const HAS_SETPRIV = hasCommand("setpriv");

export interface StartSpec {
  /** Short label used in messages. */
  name: string;
  argv: string[];
  /** CPU list for taskset, e.g. "1" or "0-1"; ignored without taskset. */
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  /** Open-file limit to ask for (falls back to the hard limit). */
  nofile?: number;
  /** Keep stdin open as a pipe (workers read commands from it). */
  stdin?: boolean;
}

const OUTPUT_KEEP = 32_768;

/** A started child; `command` is the exact command line, for the results file. */
export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly command: string;
  readonly exited: Promise<number | null>;
  #output = "";
  #lineListeners: ((line: string) => void)[] = [];
  #partial = "";
  #done = false;

  constructor(spec: StartSpec) {
    this.name = spec.name;
    const argv = wrap(spec);
    this.command = argv.map(shellQuote).join(" ");
    this.child = spawn(argv[0], argv.slice(1), {
      env: spec.env ?? process.env,
      stdio: [spec.stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (text: string) => this.#onStdout(text));
    this.child.stderr!.setEncoding("utf8").on("data", (text: string) => this.#keep(text));
    this.exited = new Promise((resolve) => {
      this.child.once("error", (err) => {
        this.#keep(`spawn error: ${err.message}\n`);
        this.#done = true;
        resolve(null);
      });
      this.child.once("close", (code) => {
        this.#done = true;
        resolve(code);
      });
    });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return !this.#done;
  }

  /** The last 32 KB of stdout and stderr. */
  get output(): string {
    return this.#output;
  }

  onLine(listener: (line: string) => void): void {
    this.#lineListeners.push(listener);
  }

  /** Resolves with the first stdout line matching `test`; rejects if the process exits or time runs out. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ready line within ${timeoutMs} ms\n${this.output}`)), timeoutMs);
      this.onLine((line) => {
        if (!test(line)) return;
        clearTimeout(timer);
        resolve(line);
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code ${code}) before it was ready\n${this.output}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL for the whole tree after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.#done) return;
    const tree = processTree(this.pid);
    signal(this.pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    for (const pid of tree) if (timedOut || pid !== this.pid) signal(pid, "SIGKILL");
    await this.exited;
  }

  killNow(): void {
    if (this.#done) return;
    for (const pid of processTree(this.pid)) signal(pid, "SIGKILL");
  }

  #onStdout(text: string): void {
    this.#keep(text);
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) for (const l of this.#lineListeners) l(line);
  }

  #keep(text: string): void {
    this.#output = (this.#output + text).slice(-OUTPUT_KEEP);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function wrap(spec: StartSpec): string[] {
  const argv: string[] = [];
  if (HAS_SETPRIV) argv.push("setpriv", "--pdeathsig", "TERM");
  if (HAS_TASKSET && spec.cpus !== undefined) argv.push("taskset", "-c", spec.cpus);
  if (spec.nofile !== undefined) {
    argv.push("sh", "-c", `ulimit -n ${spec.nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`, "sh");
  }
  argv.push(...spec.argv);
  return argv;
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function start(spec: StartSpec): Proc {
  return new Proc(spec);
}

/** Runs a command to completion (bounded by `timeoutMs`) and returns its exit code and output. */
export async function runToEnd(spec: StartSpec, timeoutMs: number): Promise<{ code: number | null; stdout: string; command: string }> {
  const proc = start(spec);
  let stdout = "";
  proc.child.stdout!.on("data", (t: string) => (stdout += t));
  const timer = setTimeout(() => void proc.stop(1000), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout, command: proc.command };
}

const live = new Set<Proc>();
const tempDirs = new Set<string>();
let stopping = false;

/** True once SIGINT/SIGTERM arrived: no new work should start. */
export function isStopping(): boolean {
  return stopping;
}

export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
}

/** Stops every child still running, then removes temp dirs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
  removeTempDirs();
}

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * Last-resort cleanup: SIGKILL anything left when the process exits, and stop
 * everything on SIGINT/SIGTERM before exiting with 130/143.
 */
export function installCleanup(log: (msg: string) => void): void {
  process.once("exit", () => {
    for (const p of live) p.killNow();
    removeTempDirs();
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`\n${sig}: stopping child processes and removing temp dirs…`);
    void stopAll().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** Pins this process to `cpus` (best effort). */
export function pinSelf(cpus: string): boolean {
  if (!HAS_TASKSET) return false;
  return spawnSync("taskset", ["-pc", cpus, String(process.pid)], { stdio: "ignore" }).status === 0;
}

export const tools = { taskset: HAS_TASKSET, setpriv: HAS_SETPRIV };
