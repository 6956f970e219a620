/** What every part of a run needs to know: paths, CPU layout, limits, logging. */
import { fileURLToPath } from "node:url";

export interface Layout {
  /** CPUs for the load generators, the mocks and this orchestrator (taskset list), or undefined when not pinning. */
  loadCpus: string | undefined;
  /** CPUs for the server under test (gateway, nginx, peer). */
  sutCpus: string | undefined;
  describe: string;
}

export interface Context {
  repoRoot: string;
  /** Temp dir of this run (configs, bodies, nginx prefix, profiles); removed at the end. */
  tmp: string;
  /** The Node binary running us (Node 24), used for every Node child. */
  node: string;
  layout: Layout;
  /** Open-file limit requested for servers and load clients. */
  nofile: number;
  log: (msg: string) => void;
}

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
export const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");

export function benchFile(name: string): string {
  return `${BENCH_DIR}/${name}`;
}
