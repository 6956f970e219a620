/** Spawning the real CLI (`src/cli/main.ts`) under the same Node that runs the tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** Variables that would change which config the CLI picks up or which providers it adds. */
const INFLUENTIAL = [
  "SWITCHYARD_CONFIG",
  "SWITCHYARD_API_KEY",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "OPENROUTER_API_KEY",
  "DEEPSEEK_API_KEY",
  "GROQ_API_KEY",
  "TOGETHER_API_KEY",
  "MISTRAL_API_KEY",
  "FIREWORKS_API_KEY",
  "XAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GEMINI_API_KEY",
  "DASHSCOPE_API_KEY",
  "HF_TOKEN",
  "CLOUDFLARE_API_TOKEN",
  "SWITCHYARD_ADMIN_KEY",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_SERVICE_NAME",
  "NODE_TEST_CONTEXT",
  "NODE_OPTIONS",
];

/** The test process's environment without anything that would steer the CLI, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INFLUENTIAL) delete env[name];
  return { ...env, ...extra };
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
}

export interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves with the first match of `re` in stdout; rejects if the process exits first. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM (if still running) and wait for the exit. */
  stop(): Promise<number | null>;
}

export function startCli(args: string[], opts: SpawnOptions = {}): Cli {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: opts.cwd,
    env: cleanEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = once(child, "close").then(() => child.exitCode);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m === null) return;
          cleanup();
          resolve(m);
        };
        const onClose = () => {
          cleanup();
          const m = re.exec(out);
          if (m !== null) resolve(m);
          else reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before printing ${re}\nstdout: ${out}\nstderr: ${err}`));
        };
        const cleanup = () => {
          child.stdout!.off("data", check);
          child.off("close", onClose);
        };
        child.stdout!.on("data", check);
        child.on("close", onClose);
        check();
        if (!running() && child.stdout!.readableEnded) onClose();
      });
    },
    async stop() {
      if (running()) child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], opts: SpawnOptions = {}): Promise<CliResult> {
  const cli = startCli(args, opts);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
