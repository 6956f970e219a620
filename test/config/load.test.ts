import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/index.ts";

let root: string;
let count = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "switchyard-config-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory holding the given files. */
async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = join(root, String(count++));
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** A config whose single model name tells which file was loaded. */
function marked(name: string): string {
  return `providers: { p: { type: demo } }\nmodels: { ${name}: { targets: [p/m] } }\n`;
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a ConfigError");
}

test("opts.path wins over $SWITCHYARD_CONFIG and ./switchyard.yaml, relative to cwd", async () => {
  const cwd = await dirWith({ "custom.yaml": marked("from-path"), "env.yaml": marked("from-env"), "switchyard.yaml": marked("from-cwd") });
  const config = await loadConfig({ path: "custom.yaml", cwd, env: { SWITCHYARD_CONFIG: "env.yaml" } });
  assert.deepEqual(Object.keys(config.models), ["from-path"]);
  assert.equal(config.source, join(cwd, "custom.yaml"));
});

test("$SWITCHYARD_CONFIG wins over ./switchyard.yaml", async () => {
  const cwd = await dirWith({ "env.yaml": marked("from-env"), "switchyard.yaml": marked("from-cwd") });
  const config = await loadConfig({ cwd, env: { SWITCHYARD_CONFIG: join(cwd, "env.yaml") } });
  assert.deepEqual(Object.keys(config.models), ["from-env"]);
});

test("./switchyard.yaml is preferred to ./switchyard.yml", async () => {
  const cwd = await dirWith({ "switchyard.yaml": marked("yaml"), "switchyard.yml": marked("yml") });
  const config = await loadConfig({ cwd, env: {} });
  assert.deepEqual(Object.keys(config.models), ["yaml"]);
  assert.equal(config.source, join(cwd, "switchyard.yaml"));
});

test("./switchyard.yml is used when there is no .yaml", async () => {
  const cwd = await dirWith({ "switchyard.yml": marked("yml") });
  const config = await loadConfig({ cwd, env: {} });
  assert.deepEqual(Object.keys(config.models), ["yml"]);
});

test("with no file at all, the config comes from the environment", async () => {
  const cwd = await dirWith({});
  const config = await loadConfig({ cwd, env: { GROQ_API_KEY: "gk" } });
  assert.equal(config.source, "defaults");
  assert.deepEqual(Object.keys(config.providers), ["demo", "groq"]);
});

test("the file's ${VAR} references use opts.env", async () => {
  const yaml = "providers: { p: { type: openai, base_url: 'http://${UP_HOST}/v1', api_key: '${UP_KEY}' } }\n";
  const cwd = await dirWith({ "switchyard.yaml": yaml });
  const config = await loadConfig({ cwd, env: { UP_HOST: "10.0.0.1:8000", UP_KEY: "k" } });
  assert.equal(config.providers.p.baseUrl, "http://10.0.0.1:8000/v1");
  assert.equal(config.providers.p.apiKey, "k");
});

test("a named file that doesn't exist is an error naming it", async () => {
  const cwd = await dirWith({ "switchyard.yaml": marked("unused") });
  const fromPath = await rejection(loadConfig({ path: "nope.yaml", cwd, env: {} }));
  assert.deepEqual(fromPath.problems, [`${join(cwd, "nope.yaml")}: file not found`]);
  const fromEnv = await rejection(loadConfig({ cwd, env: { SWITCHYARD_CONFIG: "/no/such/switchyard.yaml" } }));
  assert.match(fromEnv.message, /\/no\/such\/switchyard\.yaml: file not found/);
});

test("a directory in place of the file is an error, not a silent fallback", async () => {
  const cwd = await dirWith({});
  await mkdir(join(cwd, "switchyard.yaml"));
  const err = await rejection(loadConfig({ cwd, env: {} }));
  assert.match(err.problems[0], /switchyard\.yaml: cannot read \(EISDIR\)/);
});

test("YAML syntax errors report line and column", async () => {
  const cwd = await dirWith({ "switchyard.yaml": "server:\n  port: 4000\nmodels: [unclosed\nproviders: {}\n" });
  const err = await rejection(loadConfig({ cwd, env: {} }));
  assert.ok(err.message.startsWith(`invalid config (${join(cwd, "switchyard.yaml")}):\n`));
  assert.match(err.problems[0], /^line 4, column 1: /);
});

test("duplicate keys are a YAML error", async () => {
  const cwd = await dirWith({ "switchyard.yaml": "server: {}\nserver: {}\n" });
  const err = await rejection(loadConfig({ cwd, env: {} }));
  assert.match(err.problems[0], /^line 2, column 1: .*unique/);
});

test("schema problems from a file are reported under its path", async () => {
  const cwd = await dirWith({ "switchyard.yaml": "server: { prot: 1 }\n" });
  const err = await rejection(loadConfig({ cwd, env: {} }));
  assert.equal(err.message, `invalid config (${join(cwd, "switchyard.yaml")}):\n  server.prot: unknown key (did you mean "port"?)`);
});

test("an empty file is an empty config", async () => {
  const cwd = await dirWith({ "switchyard.yaml": "# nothing yet\n" });
  const config = await loadConfig({ cwd, env: {} });
  assert.deepEqual(config.providers, {});
  assert.equal(config.server.port, 4000);
});

test("a merge key (<<) given null, a scalar or a list of scalars is named by its path", async () => {
  const yaml = [
    "base: &base { type: demo }",
    "providers:",
    "  empty: { <<: }",
    "  scalar: { <<: 5 }",
    "  mixed: { <<: [*base, text] }",
    "  fine: { <<: *base }",
    "models:",
    "  m: { targets: [ { <<: ~, provider: fine, model: x } ] }",
  ].join("\n");
  const err = await rejection(loadConfig({ cwd: await dirWith({ "switchyard.yaml": yaml }), env: {} }));
  const expected = "a merge (<<) takes a mapping, an alias to one, or a list of those";
  assert.deepEqual(err.problems, [
    `providers.empty["<<"]: ${expected}`,
    `providers.scalar["<<"]: ${expected}`,
    `providers.mixed["<<"][1]: ${expected}`,
    `models.m.targets[0]["<<"]: ${expected}`,
  ]);
});
