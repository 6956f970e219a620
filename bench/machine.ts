/** What the numbers were measured on, for the results file. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem, version } from "node:os";
import { REPO_ROOT } from "./context.ts";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  nginx: string | null;
  wrk: string | null;
  autocannon: string | null;
  taskset: string | null;
  nofile: { soft: string; hard: string };
  cpuGovernor: string | null;
  git: { commit: string | null; dirty: boolean | null };
  /** 1-minute load average when the run started; others' work on the machine skews the figures. */
  loadAverageAtStart: number;
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: REPO_ROOT });
  if (r.error !== undefined) return null;
  const line = `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0].trim();
  return line === "" ? null : line;
}

function readOr(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

export function machineInfo(autocannon: string | null): MachineInfo {
  const status = firstLine("git", ["status", "--porcelain", "--untracked-files=no"]);
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${release()} ${version()}`,
    node: process.version,
    nginx: firstLine("nginx", ["-v"]),
    wrk: firstLine("wrk", ["--version"]),
    autocannon,
    taskset: firstLine("taskset", ["--version"]),
    nofile: {
      soft: firstLine("sh", ["-c", "ulimit -Sn"]) ?? "?",
      hard: firstLine("sh", ["-c", "ulimit -Hn"]) ?? "?",
    },
    cpuGovernor: readOr("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
    git: { commit: firstLine("git", ["rev-parse", "HEAD"]), dirty: status === null ? false : status !== "" },
    loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}
