import assert from "node:assert/strict";
import { test } from "node:test";
import { AZURE_API_VERSION, PRESET_TYPES, PRESETS, listedByDefault, resolveConfig } from "../../src/config/index.ts";
import { problemsOf } from "./fixtures.ts";

/** One provider of `type` plus `extra`, resolved. */
function providerOf(type: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}, defaults?: unknown) {
  const raw = { defaults, providers: { p: { type, ...extra } }, models: { m: { targets: ["p/x"] } } };
  return resolveConfig(raw, { env }).providers.p;
}

const EXPECTED_URLS: Record<string, string> = {
  openrouter: "https://openrouter.ai/api/v1",
  deepseek: "https://api.deepseek.com/v1",
  groq: "https://api.groq.com/openai/v1",
  mistral: "https://api.mistral.ai/v1",
  together: "https://api.together.xyz/v1",
  fireworks: "https://api.fireworks.ai/inference/v1",
  xai: "https://api.x.ai/v1",
  dashscope: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
  huggingface: "https://router.huggingface.co/v1",
  cloudflare: "https://api.cloudflare.com/client/v4/accounts/acc123/ai/v1",
  ollama: "http://127.0.0.1:11434/v1",
  vllm: "http://127.0.0.1:8000/v1",
  lmstudio: "http://127.0.0.1:1234/v1",
};

test("every preset fills in its base URL and first-byte timeout; nothing else is needed", () => {
  assert.deepEqual([...PRESET_TYPES].sort(), Object.keys(EXPECTED_URLS).sort());
  for (const type of PRESET_TYPES) {
    const p = providerOf(type, type === "cloudflare" ? { account_id: "acc123" } : {});
    assert.equal(p.type, type);
    assert.equal(p.baseUrl, EXPECTED_URLS[type], type);
    const slow = type === "openrouter" || type === "huggingface";
    assert.equal(p.timeouts.firstByte, slow ? 120_000 : 60_000, type);
    assert.equal(p.apiKey, undefined);
    assert.deepEqual(p.headers, {});
  }
  assert.deepEqual(
    PRESET_TYPES.filter((t) => PRESETS[t].local),
    ["ollama", "vllm", "lmstudio"],
  );
});

test("an explicit base_url always wins, and so do the file's own timeouts", () => {
  const p = providerOf("groq", { base_url: "http://127.0.0.1:9000/v1/", timeouts: { first_byte: "5s" } });
  assert.equal(p.baseUrl, "http://127.0.0.1:9000/v1");
  assert.equal(p.timeouts.firstByte, 5000);
  // defaults: applies before the preset's own default
  assert.equal(providerOf("openrouter", {}, {}, { timeouts: { first_byte: "30s" } }).timeouts.firstByte, 30_000);
  assert.equal(providerOf("openrouter", { timeouts: { idle: "1s" } }).timeouts.firstByte, 120_000);
});

test("openrouter: site_url and app_name become its attribution headers; configured headers win", () => {
  const p = providerOf("openrouter", { site_url: "https://app.example.com", app_name: "My App", headers: { "X-Title": "Mine" } });
  assert.deepEqual(p.headers, {
    "HTTP-Referer": "https://app.example.com",
    "X-OpenRouter-Title": "My App",
    "X-Title": "Mine",
  });
});

test("cloudflare: the account id from account_id, else CLOUDFLARE_ACCOUNT_ID; without either, a problem", () => {
  assert.equal(providerOf("cloudflare", {}, { CLOUDFLARE_ACCOUNT_ID: "fromenv" }).baseUrl, "https://api.cloudflare.com/client/v4/accounts/fromenv/ai/v1");
  assert.equal(providerOf("cloudflare", { account_id: "own" }, { CLOUDFLARE_ACCOUNT_ID: "fromenv" }).baseUrl.includes("/accounts/own/"), true);
  assert.equal(providerOf("cloudflare", { base_url: "https://gateway.example/v1" }).baseUrl, "https://gateway.example/v1");
  const raw = { providers: { cf: { type: "cloudflare" } }, models: { m: { targets: ["cf/x"] } } };
  assert.deepEqual(problemsOf(raw), ['providers.cf.account_id: required for provider type "cloudflare" without base_url (or set CLOUDFLARE_ACCOUNT_ID)']);
  assert.deepEqual(problemsOf(raw, { CLOUDFLARE_ACCOUNT_ID: "a/b" }), ["CLOUDFLARE_ACCOUNT_ID: expected an account id (letters, digits, - and _)"]);
  const bad = { providers: { cf: { type: "cloudflare", account_id: "x/../y" } }, models: { m: { targets: ["cf/x"] } } };
  assert.deepEqual(problemsOf(bad), ["providers.cf.account_id: expected an account id (letters, digits, - and _)"]);
});

test("keys that belong to one type are refused on the others", () => {
  const raw = {
    providers: {
      a: { type: "openai", base_url: "https://x.example/v1", api_version: "2024-10-21", account_id: "acc", site_url: "https://s", app_name: "n" },
    },
    models: { m: { targets: ["a/x"] } },
  };
  assert.deepEqual(problemsOf(raw), [
    'providers.a.api_version: only for provider type "azure"',
    'providers.a.account_id: only for provider type "cloudflare"',
    'providers.a.site_url: only for provider type "openrouter"',
    'providers.a.app_name: only for provider type "openrouter"',
  ]);
});

test("azure: base_url required, api_version defaulted and checked", () => {
  const p = providerOf("azure", { base_url: "https://res.openai.azure.com" });
  assert.equal(p.apiVersion, AZURE_API_VERSION);
  assert.equal(providerOf("azure", { base_url: "https://res.openai.azure.com", api_version: "v1" }).apiVersion, "v1");
  assert.equal(providerOf("azure", { base_url: "https://res.openai.azure.com", api_version: "2025-04-01-preview" }).apiVersion, "2025-04-01-preview");
  assert.deepEqual(problemsOf({ providers: { az: { type: "azure", api_version: "latest" } }, models: { m: { targets: ["az/d"] } } }), [
    'providers.az.api_version: expected "v1" or a dated version such as "2024-10-21" or "2025-04-01-preview"',
    'providers.az.base_url: required for provider type "azure"',
  ]);
});

test("api_keys: used beside api_key (first), each key once; an empty list or key is refused", () => {
  const p = providerOf("openai", { base_url: "https://x.example/v1", api_key: "k1", api_keys: ["k2", "k1", "k3"] });
  assert.equal(p.apiKey, "k1");
  assert.deepEqual(p.apiKeys, ["k1", "k2", "k3"]);
  assert.deepEqual(providerOf("groq", { api_keys: ["a", "b"] }).apiKeys, ["a", "b"]);
  assert.equal(providerOf("groq", { api_key: "a" }).apiKeys, undefined);
  const raw = { providers: { p: { type: "groq", api_keys: [] }, q: { type: "groq", api_keys: ["", 3] } }, models: { m: { targets: ["p/x"] } } };
  assert.deepEqual(problemsOf(raw), [
    "providers.p.api_keys: at least one key is required (or leave api_keys out)",
    "providers.q.api_keys[0]: must not be empty",
    "providers.q.api_keys[1]: expected a string",
  ]);
});

test("list_models: unset by default (Azure, Cloudflare and the demo unlisted), settable either way", () => {
  assert.equal(providerOf("groq").listModels, undefined);
  assert.equal(providerOf("groq", { list_models: false }).listModels, false);
  assert.equal(listedByDefault("groq"), true);
  assert.equal(listedByDefault("openai"), true);
  assert.equal(listedByDefault("azure"), false);
  assert.equal(listedByDefault("cloudflare"), false);
  assert.equal(listedByDefault("demo"), false);
});

test("every YAML example of docs/providers.md is a config the gateway accepts, its ${VAR}s set", async () => {
  const { readFile } = await import("node:fs/promises");
  const { parse } = await import("yaml");
  const text = await readFile(new URL("../../docs/providers.md", import.meta.url), "utf8");
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 5);
  const env = new Proxy({} as Record<string, string>, { get: (_t, name) => (typeof name === "string" && name.endsWith("ACCOUNT_ID") ? "acc123" : "value") });
  for (const yaml of blocks) {
    const raw = parse(yaml) as Record<string, unknown>;
    assert.doesNotThrow(() => resolveConfig(raw, { env }), yaml);
  }
});
