import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SERVE_NODE_FLAGS } from "../../src/cli/node-flags.ts";
import { cleanEnv } from "./util.ts";

const BIN = fileURLToPath(new URL("../../bin/switchyard.js", import.meta.url));
const PKG = new URL("../../package.json", import.meta.url);

test("the switchyard launcher runs through its own shebang", { skip: process.platform === "win32" && "no shebangs on Windows" }, async () => {
  const pkg = JSON.parse(await readFile(PKG, "utf8")) as { version: string };
  // The shebang finds `node` on PATH: put this Node first, as npm scripts and npx do.
  const env = cleanEnv({ PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` });
  const { stdout } = await promisify(execFile)(BIN, ["--version"], { env });
  assert.equal(stdout.trim(), pkg.version);
});

test("the launcher and `npm start` give node the serve flags", async () => {
  const shebang = (await readFile(BIN, "utf8")).split("\n")[0];
  const pkg = JSON.parse(await readFile(PKG, "utf8")) as { scripts: Record<string, string> };
  const start = pkg.scripts.start.split(" ");
  for (const flag of SERVE_NODE_FLAGS) {
    assert.ok(shebang.split(" ").includes(flag), `${shebang} lacks ${flag}`);
    assert.ok(start.indexOf(flag) > 0 && start.indexOf(flag) < start.indexOf("src/cli/main.ts"), `npm start lacks ${flag} before the script`);
  }
});
