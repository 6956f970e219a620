/**
 * Reads CPU time and resident memory of a process and all its descendants
 * from /proc (Linux only; elsewhere every figure is NaN). A server under test
 * may be several processes (nginx master + worker, gateway primary + workers),
 * so figures always cover the whole tree.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

function conf(name: string, fallback: number): number {
  try {
    const n = Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

const CLK_TCK = conf("CLK_TCK", 100);
const PAGE_SIZE = conf("PAGESIZE", 4096);

/** Fields after the `(comm)` part of /proc/PID/stat, so field 3 (state) is index 0. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** `root` and every live descendant of it. */
export function processTree(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [root];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const fields = statFields(pid);
    if (fields === undefined) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** User + system CPU seconds used so far by `root` and its descendants. */
export function cpuSeconds(root: number): number {
  let ticks = 0;
  let seen = false;
  for (const pid of processTree(root)) {
    const fields = statFields(pid);
    if (fields === undefined) continue;
    // utime and stime are fields 14 and 15 of /proc/PID/stat.
    ticks += Number(fields[11]) + Number(fields[12]);
    seen = true;
  }
  return seen ? ticks / CLK_TCK : Number.NaN;
}

/** Resident set size in bytes of `root` and its descendants. */
export function rssBytes(root: number): number {
  let pages = 0;
  let seen = false;
  for (const pid of processTree(root)) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
      seen = true;
    } catch {
      // The process went away between listing and reading.
    }
  }
  return seen ? pages * PAGE_SIZE : Number.NaN;
}

/** Samples CPU seconds of a process tree across an interval. */
export class CpuMeter {
  readonly #root: number;
  readonly #cpu0: number;
  readonly #t0: number;

  constructor(root: number) {
    this.#root = root;
    this.#cpu0 = cpuSeconds(root);
    this.#t0 = performance.now();
  }

  /** CPU seconds used since construction, and the wall seconds that passed. */
  read(): { cpuS: number; wallS: number } {
    return { cpuS: cpuSeconds(this.#root) - this.#cpu0, wallS: (performance.now() - this.#t0) / 1000 };
  }
}

/** Busy and total jiffies of the CPUs in a taskset list like "0", "1-3" or "0,2". */
function coreTimes(list: string): { busy: number; total: number } {
  const wanted = new Set<number>();
  for (const part of list.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let c = a; c <= (b ?? a); c++) wanted.add(c);
  }
  let busy = 0;
  let total = 0;
  try {
    for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (m === null || !wanted.has(Number(m[1]))) continue;
      // user nice system idle iowait irq softirq steal …
      const f = m[2].trim().split(/\s+/).map(Number);
      const sum = f.slice(0, 8).reduce((x, y) => x + y, 0);
      total += sum;
      busy += sum - f[3] - f[4];
    }
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
  return { busy, total };
}

/** How busy a set of CPUs was (by anyone) across an interval, in percent of those CPUs. */
export class CoreMeter {
  readonly #list: string | undefined;
  readonly #t0: { busy: number; total: number };

  constructor(list: string | undefined) {
    this.#list = list;
    this.#t0 = list === undefined ? { busy: Number.NaN, total: Number.NaN } : coreTimes(list);
  }

  readPct(): number {
    if (this.#list === undefined) return Number.NaN;
    const t1 = coreTimes(this.#list);
    const total = t1.total - this.#t0.total;
    return total > 0 ? (100 * (t1.busy - this.#t0.busy)) / total : Number.NaN;
  }
}
