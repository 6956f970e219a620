#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/load.ts";
import { runCheck } from "./check.ts";
import { CHECK_HELP, HELP, SCHEMA_HELP, SERVE_HELP } from "./help.ts";
import { runMock } from "./mock.ts";
import { runSchema } from "./schema.ts";
import { runServe } from "./serve.ts";

/** Asking for help wins over every other argument, valid or not; `--` ends the options. */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The usage printed with an argument error: the command's own when it has one. */
let usage = HELP;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(HELP);
      return 0;
    case "-v":
    case "--version": {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
      console.log(pkg.version);
      return 0;
    }
    case "serve":
      usage = SERVE_HELP;
      if (wantsHelp(rest)) return help(SERVE_HELP);
      // A server that started keeps the process alive; one that could not start has thrown.
      await runServe(rest);
      return -1;
    case "check":
      usage = CHECK_HELP;
      if (wantsHelp(rest)) return help(CHECK_HELP);
      return runCheck(rest);
    case "schema":
      usage = SCHEMA_HELP;
      if (wantsHelp(rest)) return help(SCHEMA_HELP);
      return runSchema(rest);
    case "mock":
      await runMock(rest);
      return -1;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

function help(text: string): number {
  process.stdout.write(text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof Error && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) process.stderr.write(`${err.message}\n\n${usage}`);
    else process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
