import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { closedPort } from "../server/util.ts";
import { runCli, startCli } from "./util.ts";

const SECRET = "sk-live-supersecret-abcdef123456";
const LISTENING = /switchyard listening on (http:\/\/[^"\s]+)/;

let dir: string;
let mock: MockUpstream;
let deadPort: number;
let statusServer: Server;
/** Answers every request with the status its first path segment names, and an error body quoting the caller's key. */
let statusUrl: string;

before(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "switchyard-cli-")));
  mock = await startMockUpstream();
  deadPort = await closedPort();
  statusServer = createServer((req, res) => {
    const status = Number(req.url!.split("/")[1]);
    const body = JSON.stringify({ error: { message: `status ${status} for ${req.headers.authorization ?? "no key"}\non two lines` } });
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => statusServer.listen(0, "127.0.0.1", resolve));
  statusUrl = `http://127.0.0.1:${(statusServer.address() as AddressInfo).port}`;
});
after(async () => {
  statusServer.close();
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** Writes YAML into a fresh directory and returns the file's path. */
async function configFile(yaml: string, name = "config.yaml"): Promise<string> {
  const sub = join(dir, `case-${++n}`);
  await mkdir(sub);
  const file = join(sub, name);
  await writeFile(file, yaml);
  return file;
}

const demoYaml = (model = "demo") => `
providers:
  demo:
    type: demo
models:
  ${model}:
    targets: [demo/demo-1]
`;

/** A literal path as a RegExp source. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** The rows of check's table after its header, split into cells. */
function tableRows(stdout: string): Map<string, string[]> {
  const lines = stdout.trimEnd().split("\n");
  const header = lines.findIndex((l) => /^provider\s+type\s+result\s+status\s+time\s+error$/.test(l));
  assert.ok(header >= 0, `no table header in:\n${stdout}`);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(header + 1)) {
    const cells = line.split(/\s{2,}/);
    rows.set(cells[0], cells);
  }
  return rows;
}

// Each test spawns its own processes, so they all run side by side.
describe("switchyard CLI", { concurrency: true }, () => {
  describe("help and usage", { concurrency: true }, () => {
    for (const args of [["--help"], []]) {
      test(`${args.join(" ") || "(no arguments)"} prints usage naming serve, check and mock`, async () => {
        const r = await runCli(args);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Usage:/m);
        for (const cmd of ["serve", "check", "mock"]) assert.match(r.stdout, new RegExp(`switchyard ${cmd}\\b`));
        assert.equal(r.stderr, "");
      });
    }

    for (const command of ["serve", "check", "schema"]) {
      for (const flag of ["--help", "-h"]) {
        test(`${command} ${flag} prints the ${command} usage and exits 0`, async () => {
          const r = await runCli([command, flag]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, new RegExp(`^Usage: switchyard ${command} `));
          if (command !== "schema") assert.match(r.stdout, /--config FILE/);
          assert.equal(r.stderr, "");
        });
      }
    }

    test("serve --help ignores the other arguments, even invalid ones", async () => {
      const r = await runCli(["serve", "--port", "not-a-port", "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: switchyard serve /);
    });

    test("--workers is in the overall and the serve usage", async () => {
      for (const args of [["--help"], ["serve", "--help"]]) {
        const r = await runCli(args);
        assert.match(r.stdout, /--workers N/, args.join(" "));
      }
    });

    test("--version prints the package version", async () => {
      const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
      const r = await runCli(["--version"]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), pkg.version);
    });

    test("an unknown command exits 2 naming it, with usage on stderr", async () => {
      const r = await runCli(["frobnicate"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command "frobnicate"/);
      assert.match(r.stderr, /Usage:/);
      assert.equal(r.stdout, "");
    });
  });

  describe("serve", { concurrency: true }, () => {
    test("--config FILE --port 0 logs its URL, answers /health and /v1/models, and exits 0 on SIGTERM", async (t) => {
      const file = await configFile(demoYaml("my-demo"));
      const cli = startCli(["serve", "--config", file, "--port", "0"]);
      t.after(() => cli.stop());
      const [, url] = await cli.waitFor(LISTENING);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(url).port, "0");

      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, "ok");
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      assert.deepEqual(models.data.map((m) => m.id), ["my-demo"]);
      const reply = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "my-demo", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(reply.status, 200);

      const line = JSON.parse(cli.stdout().split("\n").find((l) => LISTENING.test(l))!) as { config: string; models: string[] };
      assert.equal(line.config, file);
      assert.deepEqual(line.models, ["my-demo"]);
      assert.equal(await cli.stop(), 0);
    });

    test("an invalid config exits 1 listing every problem with its path, never the key", async () => {
      const file = await configFile(`
  providers:
    openai:
      type: openai
      base_url: https://api.openai.com/v1
      api_key: ${SECRET}
      timeouts:
        connect: soon
    backup:
      type: openai
      base_url: "ftp://user:${SECRET}@example.com"
      apikey: ${SECRET}
  models:
    chat:
      targets:
        - provider: opnai
          model: gpt-4o-mini
  `);
      const r = await runCli(["serve", "--config", file, "--port", "0"]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "", "nothing was served or logged");
      assert.match(r.stderr, new RegExp(`invalid config \\(${escape(file)}\\)`));
      assert.match(r.stderr, /models\.chat\.targets\[0\]\.provider: unknown provider "opnai" \(did you mean "openai"\?\)/);
      assert.match(r.stderr, /providers\.openai\.timeouts\.connect: invalid duration "soon"/);
      assert.match(r.stderr, /providers\.backup\.base_url: expected an http:\/\/ or https:\/\/ URL/);
      assert.match(r.stderr, /providers\.backup\.apikey: unknown key \(did you mean "api_key"\?\)/);
      assert.ok(!r.stderr.includes(SECRET), `the key leaked:\n${r.stderr}`);
      assert.ok(!r.stderr.includes("supersecret"), `part of the key leaked:\n${r.stderr}`);
    });

    for (const workers of ["1", "2"]) {
      test(`a port already in use is one clear line naming the address, exit 1 (--workers ${workers})`, async (t) => {
        const taken = createServer();
        await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
        t.after(() => taken.close());
        const port = (taken.address() as AddressInfo).port;
        const r = await runCli(["serve", "--config", await configFile(demoYaml()), "--port", String(port), "--workers", workers, "--log-level", "silent"]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.equal(r.stderr, `cannot listen on 127.0.0.1:${port}: the address is already in use; choose another with --port (or server.port), or stop the process using it\n`);
      });
    }

    test("SIGHUP reloads the config file; an invalid one is logged and the old one keeps serving", async (t) => {
      const file = await configFile(demoYaml("before"));
      const cli = startCli(["serve", "--config", file, "--port", "0"]);
      t.after(() => cli.stop());
      const [, url] = await cli.waitFor(LISTENING);
      await writeFile(file, demoYaml("after"));
      cli.child.kill("SIGHUP");
      const [line] = await cli.waitFor(/^.*config reloaded.*$/m);
      assert.equal((JSON.parse(line) as { config: string }).config, file);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      assert.deepEqual(models.data.map((m) => m.id), ["after"]);

      await writeFile(file, "providers: { demo: { type: nonsense } }\n");
      cli.child.kill("SIGHUP");
      const [rejected] = await cli.waitFor(/^.*config reload rejected.*$/m);
      assert.ok((JSON.parse(rejected) as { problems: string[] }).problems.some((p) => p.includes("providers.demo.type")));
      assert.equal((await fetch(`${url}/health`)).status, 200);
      const still = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      assert.deepEqual(still.data.map((m) => m.id), ["after"]);
      assert.equal(await cli.stop(), 0);
    });

    test("an empty config file starts with a warning naming what to add", async (t) => {
      const cli = startCli(["serve", "--config", await configFile("# nothing yet\n"), "--port", "0"]);
      t.after(() => cli.stop());
      await cli.waitFor(LISTENING);
      const line = cli.stdout().split("\n").find((l) => l.includes("no providers"));
      assert.ok(line !== undefined, `no warning in:\n${cli.stdout()}`);
      const logged = JSON.parse(line) as { level: number; msg: string };
      assert.equal(logged.level, 40, "logged as a warning");
      assert.match(logged.msg, /add a providers: section/);
      assert.match(logged.msg, /models:/);
      assert.equal(await cli.stop(), 0);
    });

    test("a YAML syntax error on the key's line does not quote the key", async () => {
      const file = await configFile(`providers:\n  openai:\n    type: openai\n    base_url: https://api.openai.com/v1\n    api_key: "${SECRET}\n`);
      const r = await runCli(["serve", "--config", file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /line \d+, column \d+/);
      assert.ok(!r.stderr.includes("supersecret"), `the key leaked:\n${r.stderr}`);
    });
  });

  describe("check", { concurrency: true }, () => {
    test("prints one row per provider; an unreachable one makes it exit 1", async () => {
      const file = await configFile(`
  providers:
    up:
      type: openai
      base_url: ${mock.url}
      api_key: ${SECRET}
    down:
      type: openai
      base_url: http://127.0.0.1:${deadPort}/v1
      api_key: ${SECRET}
    local:
      type: demo
  models:
    chat:
      targets: [up/gpt-4o-mini, down/gpt-4o-mini]
  `);
      const r = await runCli(["check", "--config", file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, new RegExp(`^config ok: .*config\\.yaml \\(3 providers, 1 models\\)$`, "m"));
      const rows = tableRows(r.stdout);
      assert.deepEqual([...rows.keys()].sort(), ["down", "local", "up"]);
      assert.deepEqual(rows.get("up")!.slice(0, 4), ["up", "openai", "ok", "200"]);
      assert.match(rows.get("up")![4], /^\d+(\.\d+)? ms$/);
      assert.deepEqual(rows.get("down")!.slice(0, 4), ["down", "openai", "UNREACHABLE", "-"]);
      assert.match(rows.get("down")!.at(-1)!, /could not connect|ECONNREFUSED/);
      assert.deepEqual(rows.get("local")!.slice(0, 3), ["local", "demo", "ok"]);
      assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), "the key leaked");
    });

    test("a provider that refuses the key is AUTH FAILED and fails the check", async () => {
      const guarded = await startMockUpstream({ apiKey: "the-right-key" });
      try {
        const file = await configFile(`
  providers:
    guarded:
      type: openai
      base_url: ${guarded.url}
      api_key: ${SECRET}
  models:
    chat:
      targets: [guarded/gpt-4o-mini]
  `);
        const r = await runCli(["check", "--config", file]);
        assert.equal(r.code, 1, r.stderr);
        assert.deepEqual(tableRows(r.stdout).get("guarded")!.slice(0, 4), ["guarded", "openai", "AUTH FAILED", "401"]);
        assert.ok(!r.stdout.includes(SECRET), "the key leaked");
      } finally {
        await guarded.close();
      }
    });

    test("a base_url without /v1 gets a 404 from GET /models: NOT FOUND, with the upstream's message and a hint, exit 1", async () => {
      const file = await configFile(`
  providers:
    nov1:
      type: openai
      base_url: ${mock.url.replace(/\/v1$/, "")}
  models:
    chat:
      targets: [nov1/gpt-4o-mini]
  `);
      const r = await runCli(["check", "--config", file]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const row = tableRows(r.stdout).get("nov1")!;
      assert.deepEqual(row.slice(0, 4), ["nov1", "openai", "NOT FOUND", "404"]);
      assert.match(row.at(-1)!, /Unknown request URL: GET \/models/);
      assert.match(row.at(-1)!, /\/v1/, "the hint names the usual version path");
    });

    test("any status but 2xx fails the check, showing the status and the upstream's message with the key redacted", async () => {
      const provider = (name: string, status: number) => `
    ${name}:
      type: openai
      base_url: ${statusUrl}/${status}
      api_key: ${SECRET}`;
      const file = await configFile(`
  providers:${provider("teapot", 418)}${provider("broken", 500)}${provider("moved", 301)}${provider("fine", 204)}
  models:
    chat:
      targets: [fine/x]
  `);
      const r = await runCli(["check", "--config", file]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const rows = tableRows(r.stdout);
      assert.deepEqual(rows.get("teapot")!.slice(0, 4), ["teapot", "openai", "FAILED", "418"]);
      assert.deepEqual(rows.get("broken")!.slice(0, 4), ["broken", "openai", "FAILED", "500"]);
      assert.deepEqual(rows.get("moved")!.slice(0, 4), ["moved", "openai", "FAILED", "301"]);
      assert.deepEqual(rows.get("fine")!.slice(0, 4), ["fine", "openai", "ok", "204"]);
      for (const name of ["teapot", "broken"]) {
        const message = rows.get(name)!.at(-1)!;
        // One line per provider: the upstream's line break is folded into a space.
        assert.match(message, /^status \d+ for Bearer \[redacted\] on two lines$/);
      }
      assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), "the key leaked");
    });

    test("an empty config file passes with a warning naming what to add", async () => {
      const r = await runCli(["check", "--config", await configFile("")]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^config ok: .* \(0 providers, 0 models\)$/m);
      assert.match(r.stderr, /^warning: .*no providers.*add a providers: section/m);
    });

    test("exits 0 when every provider is reachable", async () => {
      const file = await configFile(`
  providers:
    up:
      type: openai
      base_url: ${mock.url}
    local:
      type: demo
  models:
    chat:
      targets: [up/gpt-4o-mini]
  `);
      const r = await runCli(["check", "--config", file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const rows = tableRows(r.stdout);
      assert.equal(rows.size, 2);
      for (const cells of rows.values()) assert.equal(cells[2], "ok");
    });
  });

  describe("schema", { concurrency: true }, () => {
    test("prints the published switchyard.schema.json", async () => {
      const published = await readFile(new URL("../../switchyard.schema.json", import.meta.url), "utf8");
      const r = await runCli(["schema"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, published);
    });

    test("--output FILE writes it there", async () => {
      const out = join(dir, "written.schema.json");
      const r = await runCli(["schema", "--output", out]);
      assert.equal(r.code, 0, r.stderr);
      const written = JSON.parse(await readFile(out, "utf8")) as { $schema: string; properties: Record<string, unknown> };
      assert.equal(written.$schema, "http://json-schema.org/draft-07/schema#");
      assert.deepEqual(Object.keys(written.properties), ["server", "defaults", "providers", "models", "pricing", "cache", "telemetry"]);
    });
  });

  describe("where the config comes from", { concurrency: true }, () => {
    test("./switchyard.yaml in the working directory is picked up", async () => {
      const file = await configFile(demoYaml("from-cwd"), "switchyard.yaml");
      const r = await runCli(["check"], { cwd: join(file, "..") });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^config ok: ${escape(file)} \\(1 providers, 1 models\\)$`, "m"));
    });

    test("$SWITCHYARD_CONFIG is picked up (relative to the working directory) and wins over ./switchyard.yaml", async () => {
      const local = await configFile(demoYaml("local"), "switchyard.yaml");
      const cwd = join(local, "..");
      const envFile = join(cwd, "elsewhere.yaml");
      await writeFile(envFile, demoYaml("from-env"));
      const r = await runCli(["check"], { cwd, env: { SWITCHYARD_CONFIG: "elsewhere.yaml" } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^config ok: ${escape(envFile)} `, "m"));
    });

    test("--config wins over $SWITCHYARD_CONFIG", async () => {
      const envFile = await configFile(demoYaml("env"), "env.yaml");
      const flagFile = await configFile(demoYaml("flag"), "flag.yaml");
      const r = await runCli(["check", "--config", flagFile], { cwd: dir, env: { SWITCHYARD_CONFIG: envFile } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^config ok: ${escape(flagFile)} `, "m"));
    });

    test("serve picks up ./switchyard.yaml and $SWITCHYARD_CONFIG", async (t) => {
      const cwdFile = await configFile(demoYaml("cwd-model"), "switchyard.yaml");
      const envFile = await configFile(demoYaml("env-model"), "env.yaml");
      const fromCwd = startCli(["serve", "--port", "0"], { cwd: join(cwdFile, "..") });
      const fromEnv = startCli(["serve", "--port", "0"], { cwd: dir, env: { SWITCHYARD_CONFIG: envFile } });
      t.after(() => Promise.all([fromCwd.stop(), fromEnv.stop()]));
      for (const [cli, model] of [[fromCwd, "cwd-model"], [fromEnv, "env-model"]] as const) {
        const [, url] = await cli.waitFor(LISTENING);
        const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
        assert.deepEqual(models.data.map((m) => m.id), [model]);
      }
    });

    test("a $SWITCHYARD_CONFIG naming a missing file is an error, not a silent fallback", async () => {
      const r = await runCli(["check"], { cwd: dir, env: { SWITCHYARD_CONFIG: "missing.yaml" } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /missing\.yaml: file not found/);
    });

    test("with no config anywhere, the built-in demo setup is used", async () => {
      const empty = join(dir, "empty");
      await mkdir(empty, { recursive: true });
      const r = await runCli(["check"], { cwd: empty });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^config ok: defaults \(1 providers, 1 models\)$/m);
      assert.deepEqual(tableRows(r.stdout).get("demo")?.slice(0, 3), ["demo", "demo", "ok"]);
    });
  });
});
