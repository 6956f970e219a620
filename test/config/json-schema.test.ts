import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { parse } from "yaml";
import { resolveConfig } from "../../src/config/index.ts";
import { configJsonSchema, configJsonSchemaText } from "../../src/config/json-schema.ts";
import { EXAMPLE_YAML, minimal } from "./fixtures.ts";
import { jsonSchemaErrors } from "./json-schema-validator.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => readFile(new URL(path, ROOT), "utf8");
const schema = configJsonSchema();

/** Whether an editor using the published schema accepts `raw`. */
const editorAccepts = (raw: unknown) => jsonSchemaErrors(schema, raw).length === 0;

/** Whether the gateway accepts `raw`, with `env` for its references. */
function gatewayAccepts(raw: unknown, env: Record<string, string> = {}): boolean {
  try {
    resolveConfig(raw, { env });
    return true;
  } catch {
    return false;
  }
}

test("switchyard.schema.json is in step with the zod schema (regenerate it with `npm run schema`)", async () => {
  assert.equal(await read("switchyard.schema.json"), configJsonSchemaText());
});

test("generating the schema again gives the same text", () => {
  assert.equal(configJsonSchemaText(), configJsonSchemaText());
});

test("switchyard.example.yaml points editors at the schema on its first line", async () => {
  const first = (await read("switchyard.example.yaml")).split("\n")[0];
  assert.equal(first, "# yaml-language-server: $schema=./switchyard.schema.json");
});

test("every key in the schema has a description for editors to show", () => {
  const missing: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== "object" || node === null) return;
    const s = node as Record<string, any>;
    for (const [key, child] of Object.entries<Record<string, unknown>>(s.properties ?? {})) {
      if (typeof child.description !== "string" || child.description === "") missing.push(`${path}.${key}`);
      walk(child, `${path}.${key}`);
    }
    for (const option of s.anyOf ?? []) walk(option, path);
    walk(s.additionalProperties, `${path}.*`);
    walk(s.items, `${path}[]`);
  };
  walk(schema, "$");
  assert.deepEqual(missing, []);
});

test("the documented examples are valid in an editor, before their ${VAR}s are replaced", async () => {
  const docs = [await read("README.md"), await read("docs/config.md")];
  const blocks = docs.flatMap((text) => [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]));
  assert.ok(blocks.length >= 1, "the docs hold YAML examples");
  for (const yaml of [await read("switchyard.example.yaml"), EXAMPLE_YAML, ...blocks]) {
    assert.deepEqual(jsonSchemaErrors(schema, parse(yaml)), [], yaml);
  }
});

test("a file whose every value is a ${VAR} reference passes in an editor, and in the gateway once they are set", () => {
  // Block style: in a flow mapping ({ … }) YAML itself reads "{" as structure, so a reference there needs quotes.
  const yaml = `
server:
  host: \${HOST}
  port: \${PORT}
  max_body: \${MAX_BODY}
  log_level: \${LEVEL:-info}
  workers: \${WORKERS}
  auth:
    keys:
      - \${GATEWAY_KEY}
      - key: \${GATEWAY_KEY_2}
        name: \${KEY_NAME}
    allow_unauthenticated: \${OPEN:-false}
  timeouts:
    headers: \${T}
    body: \${T}
    keep_alive: \${T}
  max_connections: \${N}
  cors:
    origins:
      - \${ORIGIN}
    max_age: \${T}
  compression:
    min_size: \${MAX_BODY}
    streams: \${H2:-false}
defaults:
  timeouts:
    connect: \${T}
    first_byte: \${T}
    idle: \${T}
    total: \${T}
  pool:
    connections: \${N}
    keepalive_timeout: \${T}
    http2: \${H2:-false}
  retry: { attempts: "\${N}", base_delay: "\${T}", max_delay: "\${T}" }
providers:
  up:
    type: \${TYPE}
    base_url: \${URL}
    api_key: \${KEY}
    headers:
      X-Extra: \${EXTRA}
models:
  chat:
    targets:
      - up/\${MODEL}
      - \${TARGET}
      - provider: \${PROVIDER}
        model: \${MODEL}
        priority: \${N}
        weight: \${N}
    fallbacks:
      - \${FALLBACK}
  other:
    targets: [up/x]
`;
  const raw = parse(yaml);
  assert.deepEqual(jsonSchemaErrors(schema, raw), []);
  const env = {
    HOST: "0.0.0.0", PORT: "8080", MAX_BODY: "1mb", WORKERS: "2", T: "5s", N: "3", TYPE: "openai", URL: "https://api.example.com/v1",
    KEY: "k", EXTRA: "x", MODEL: "m", TARGET: "up/m2", PROVIDER: "up", FALLBACK: "other",
    GATEWAY_KEY: "first-gateway-key-0123", GATEWAY_KEY_2: "second-gateway-key-0123", KEY_NAME: "ci", ORIGIN: "https://app.example.com",
  };
  assert.ok(gatewayAccepts(raw, env));
});

/** Sets `value` at `path` in a fresh minimal config. */
function withValue(path: (string | number)[], value: unknown): Record<string, any> {
  const raw = minimal();
  let at: Record<string | number, any> = raw;
  for (const key of path.slice(0, -1)) at = at[key] ??= {};
  at[path.at(-1)!] = value;
  return raw;
}

const SERVER_PORT = ["server", "port"];
const DURATION = ["providers", "openai", "timeouts", "connect"];
const SIZE = ["server", "max_body"];
const BOOL = ["providers", "openai", "pool", "http2"];
const URL_ = ["providers", "openai", "base_url"];
const LEVEL = ["server", "log_level"];
const TYPE = ["providers", "openai", "type"];
const WEIGHT = ["models", "chat", "targets", 0, "weight"];
const TARGET = ["models", "chat", "targets", 1];
const COMPRESSION = ["server", "compression"];
const KEYS = ["server", "auth", "keys"];
const ORIGINS = ["server", "cors", "origins"];

test("editor and gateway agree on values the JSON Schema can judge", () => {
  const cases: [path: (string | number)[], value: unknown, valid: boolean][] = [
    [SERVER_PORT, 4000, true], [SERVER_PORT, "4000", true], [SERVER_PORT, "${PORT}", true],
    [SERVER_PORT, -1, false], [SERVER_PORT, 70000, false], [SERVER_PORT, 1.5, false], [SERVER_PORT, "http", false], [SERVER_PORT, true, false],
    [DURATION, "10s", true], [DURATION, " 250 ms ", true], [DURATION, "1.5S", true], [DURATION, ".5m", true], [DURATION, 0, true], [DURATION, 1000, true],
    [DURATION, "${T:-10s}", true], [DURATION, "soon", false], [DURATION, "10 seconds", false], [DURATION, -5, false], [DURATION, "-1s", false],
    [DURATION, true, false], [DURATION, 2 ** 31, false], [DURATION, [], false],
    [SIZE, "10mb", true], [SIZE, "512KB", true], [SIZE, 1024, true], [SIZE, "10zb", false], [SIZE, 0, false], [SIZE, "big", false],
    [BOOL, true, true], [BOOL, "false", true], [BOOL, "${H2}", true], [BOOL, "yes", false], [BOOL, 1, false],
    [URL_, "https://api.example.com/v1", true], [URL_, " HTTP://x ", true], [URL_, "http:x", true], [URL_, "ftp://x", false], [URL_, 5, false],
    [LEVEL, "debug", true], [LEVEL, "inf", false], [LEVEL, 3, false],
    [TYPE, "demo", true], [TYPE, "anthropic", true], [TYPE, "watsonx", false], [TYPE, null, false],
    [WEIGHT, 0.5, true], [WEIGHT, "2", true], [WEIGHT, 0, false], [WEIGHT, "heavy", false],
    [TARGET, "openai/gpt-4o", true], [TARGET, "openai/org/model", true], [TARGET, "no-slash", false], [TARGET, "/m", false], [TARGET, "openai/", false],
    [TARGET, 5, false], [TARGET, { provider: "openai", model: "m", extra: 1 }, false], [TARGET, { provider: "openai" }, false],
    [["providers", "openai", "headers"], { "X-A": "1" }, true], [["providers", "openai", "headers"], { "X-A": 1 }, false],
    [["providers", "openai", "headers"], { "Bad Name": "1" }, false],
    [["providers", "openai", "colour"], "blue", false], [["server", "hots"], "x", false], [["modles"], {}, false],
    [["providers", "a/b"], { type: "demo" }, false], [["providers", "openai"], null, false],
    [["models", "chat", "targets"], [], false], [["models", "chat", "retry"], null, true], [["server"], null, true],
    [COMPRESSION, false, true], [COMPRESSION, true, false], [COMPRESSION, { min_size: "1kb", streams: true }, true], [COMPRESSION, "off", false],
    [KEYS, ["${GATEWAY_KEY}"], true], [KEYS, ["a-long-enough-gateway-key"], true], [KEYS, [{ key: "a-long-enough-gateway-key", name: "ci" }], true],
    [KEYS, ["short"], false], [KEYS, ["has spaces in the middle"], false], [KEYS, [{ name: "no key" }], false],
    [ORIGINS, ["https://app.example.com"], true], [ORIGINS, ["*"], true], [ORIGINS, ["not an origin"], false], [ORIGINS, [], false],
    [["server", "timeouts", "headers"], "5s", true], [["server", "max_connections"], 0, false],
  ];
  const disagreements = cases.flatMap(([path, value, valid]) => {
    const raw = withValue(path, value);
    const verdicts = { editor: editorAccepts(raw), gateway: gatewayAccepts(raw, { PORT: "4000", T: "", H2: "true", GATEWAY_KEY: "from-the-environment-0123" }) };
    return verdicts.editor === valid && verdicts.gateway === valid ? [] : [`${path.join(".")} = ${JSON.stringify(value)}: ${JSON.stringify(verdicts)}`];
  });
  assert.deepEqual(disagreements, []);
});

test("where they differ, the editor is the lenient one", () => {
  // Checks that span keys or need the environment are the gateway's alone.
  const lenient = [
    withValue(["models", "chat", "targets", 0, "provider"], "nonexistent"),
    withValue(["models", "chat", "fallbacks"], ["chat"]),
    withValue(["models", "chat", "retry"], { base_delay: "10s", max_delay: "1s" }),
    withValue(["providers", "openai", "api_key"], "${UNSET_KEY}"),
    withValue(SERVER_PORT, "70000"),
    withValue(["providers", "openai"], { type: "openai" }),
  ];
  for (const raw of lenient) {
    assert.equal(editorAccepts(raw), true, JSON.stringify(raw));
    assert.equal(gatewayAccepts(raw), false, JSON.stringify(raw));
  }
});
