import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, configFromEnv, DEFAULTS, ENV_PROVIDERS, loadConfig, resolveConfig } from "../../src/config/index.ts";
import { minimal } from "./fixtures.ts";

test("without keys there is only the demo provider and model", () => {
  const config = configFromEnv({});
  assert.equal(config.source, "defaults");
  assert.deepEqual(config.server, { ...DEFAULTS.server });
  assert.deepEqual(config.providers, {
    demo: {
      name: "demo",
      type: "demo",
      baseUrl: "demo://local",
      headers: {},
      timeouts: { ...DEFAULTS.timeouts },
      pool: { ...DEFAULTS.pool },
    },
  });
  assert.deepEqual(config.models, {
    demo: {
      name: "demo",
      targets: [{ provider: "demo", model: "demo-1", priority: 0, weight: 1 }],
      retry: { ...DEFAULTS.retry },
      fallbacks: [],
    },
  });
});

test("each known API key adds a provider of its preset type, with the key as given", () => {
  const env = {
    OPENAI_API_KEY: " sk-openai ",
    ANTHROPIC_API_KEY: "an",
    GEMINI_API_KEY: "gm",
    OPENROUTER_API_KEY: "or",
    DEEPSEEK_API_KEY: "ds",
    GROQ_API_KEY: "gq",
    TOGETHER_API_KEY: "tg",
    MISTRAL_API_KEY: "ms",
    FIREWORKS_API_KEY: "fw",
    XAI_API_KEY: "xa",
    DASHSCOPE_API_KEY: "dc",
    HF_TOKEN: "hf",
    CLOUDFLARE_API_TOKEN: "cf",
    CLOUDFLARE_ACCOUNT_ID: "0123abcd",
    UNRELATED_API_KEY: "x",
  };
  const { providers, models } = configFromEnv(env);
  const summary = Object.values(providers).map((p) => [p.name, p.type, p.baseUrl, p.apiKey, p.timeouts.firstByte]);
  assert.deepEqual(summary, [
    ["demo", "demo", "demo://local", undefined, 60_000],
    ["openai", "openai", "https://api.openai.com/v1", " sk-openai ", 60_000],
    ["anthropic", "anthropic", "https://api.anthropic.com/v1", "an", 60_000],
    ["gemini", "gemini", "https://generativelanguage.googleapis.com/v1beta", "gm", 60_000],
    ["openrouter", "openrouter", "https://openrouter.ai/api/v1", "or", 120_000],
    ["deepseek", "deepseek", "https://api.deepseek.com/v1", "ds", 60_000],
    ["groq", "groq", "https://api.groq.com/openai/v1", "gq", 60_000],
    ["together", "together", "https://api.together.xyz/v1", "tg", 60_000],
    ["mistral", "mistral", "https://api.mistral.ai/v1", "ms", 60_000],
    ["fireworks", "fireworks", "https://api.fireworks.ai/inference/v1", "fw", 60_000],
    ["xai", "xai", "https://api.x.ai/v1", "xa", 60_000],
    ["dashscope", "dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "dc", 60_000],
    ["huggingface", "huggingface", "https://router.huggingface.co/v1", "hf", 120_000],
    ["cloudflare", "cloudflare", "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/v1", "cf", 60_000],
  ]);
  assert.deepEqual(Object.keys(models), ["demo"]);
  assert.equal(ENV_PROVIDERS.length, 13);
});

test("a Cloudflare token without CLOUDFLARE_ACCOUNT_ID adds nothing; a malformed account id is a ConfigError", () => {
  assert.equal("cloudflare" in configFromEnv({ CLOUDFLARE_API_TOKEN: "cf" }).providers, false);
  assert.equal("cloudflare" in configFromEnv({ CLOUDFLARE_ACCOUNT_ID: "0123abcd" }).providers, false);
  assert.throws(
    () => configFromEnv({ CLOUDFLARE_API_TOKEN: "cf", CLOUDFLARE_ACCOUNT_ID: "../x" }),
    (err) => err instanceof ConfigError && err.problems[0] === "CLOUDFLARE_ACCOUNT_ID: expected an account id (letters, digits, - and _)",
  );
});

test("OPENAI_BASE_URL replaces the OpenAI base URL; empty keys are ignored", () => {
  const { providers } = configFromEnv({ OPENAI_API_KEY: "k", OPENAI_BASE_URL: "http://localhost:11434/v1/", GROQ_API_KEY: "" });
  assert.equal(providers.openai.baseUrl, "http://localhost:11434/v1");
  assert.equal("groq" in providers, false);
});

test("an invalid OPENAI_BASE_URL is a ConfigError", () => {
  assert.throws(
    () => configFromEnv({ OPENAI_API_KEY: "k", OPENAI_BASE_URL: "localhost:11434" }),
    (err) => err instanceof ConfigError && err.problems[0] === "OPENAI_BASE_URL: expected an http:// or https:// URL",
  );
});

test("ConfigError messages never contain API key or header values", async () => {
  const secret = "sk-live-DO-NOT-PRINT-123";
  const raw = minimal();
  raw.providers.openai.api_key = "${KEY}";
  raw.providers.openai.headers = { Authorization: `Bearer ${secret}\n`, "Bad Header": secret };
  raw.providers.bad = { type: "openai", base_url: `https://user:${secret}@host:badport/v1`, api_key: 12345 };
  raw.models.chat.targets[0].provider = "opnai";
  const messages: string[] = [];
  try {
    resolveConfig(raw, { env: { KEY: secret } });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    messages.push(err.message, ...err.problems);
  }
  const dir = await mkdtemp(join(tmpdir(), "switchyard-secret-"));
  try {
    await writeFile(join(dir, "switchyard.yaml"), `providers:\n  p: { type: openai, api_key: ${secret}\n  q: [\n`);
    await loadConfig({ cwd: dir, env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    messages.push(err.message);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(messages.length, 7, "both configs must be rejected, the first with five problems");
  assert.match(messages[0], /unknown provider "opnai"/);
  assert.match(messages[6], /^invalid config .*\n  line 3, column/);
  for (const message of messages) assert.equal(message.includes(secret), false, message);
});
