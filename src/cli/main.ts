#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/load.ts";
import { runCheck } from "./check.ts";
import { HELP } from "./help.ts";
import { runMock } from "./mock.ts";
import { runServe } from "./serve.ts";

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
      await runServe(rest);
      return -1;
    case "check":
      return runCheck(rest);
    case "mock":
      await runMock(rest);
      return -1;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof Error && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) process.stderr.write(`${err.message}\n\n${HELP}`);
    else process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
