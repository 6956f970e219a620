import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { DEFAULTS, resolveConfig } from "../../src/config/index.ts";
import { EXAMPLE_YAML, minimal } from "./fixtures.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** The server settings when nothing sets them, written out as a user would expect them. */
const DEFAULT_SERVER = {
  host: "127.0.0.1",
  port: 4000,
  maxBody: 10 * 1024 * 1024,
  logLevel: "info",
  workers: 1,
  auth: { keys: [], allowUnauthenticated: false },
  timeouts: { headers: 10_000, body: 30_000, keepAlive: 5_000 },
  maxConnections: 10_000,
  compression: { minSize: 1024, streams: false },
  shutdownTimeout: 30_000,
  watchConfig: false,
};

test("the documented example resolves to the normalised config", () => {
  const config = resolveConfig(parse(EXAMPLE_YAML), { env: { PRIMARY_KEY: "pk-1" }, source: "example.yaml" });
  assert.equal(config.source, "example.yaml");
  assert.deepEqual(config.server, DEFAULT_SERVER);
  assert.deepEqual(config.providers.primary, {
    name: "primary",
    type: "openai",
    baseUrl: "http://127.0.0.1:9001/v1",
    apiKey: "pk-1",
    headers: { "X-Extra": "value" },
    timeouts: { connect: 10 * SECOND, firstByte: 60 * SECOND, idle: 30 * SECOND, total: 10 * MINUTE },
    pool: { connections: 100, keepAliveTimeout: 5 * MINUTE, http2: false },
  });
  assert.equal(config.providers.backup.apiKey, "none");
  assert.deepEqual(config.providers.backup.headers, {});
  assert.deepEqual(config.models.chat, {
    name: "chat",
    targets: [
      { provider: "primary", model: "gpt-4o-mini", priority: 0, weight: 1 },
      { provider: "backup", model: "gpt-4o-mini", priority: 1, weight: 1 },
      { provider: "backup", model: "gpt-4o", priority: 0, weight: 1 },
    ],
    retry: { attempts: 3, baseDelay: 1 * SECOND, maxDelay: 8 * SECOND },
    fallbacks: ["chat-small"],
  });
  assert.deepEqual(config.models["chat-small"].retry, { attempts: 3, baseDelay: 250, maxDelay: 8 * SECOND });
  assert.deepEqual(config.models["chat-small"].fallbacks, []);
});

test("built-in defaults fill everything left out", () => {
  const config = resolveConfig(minimal(), { env: {} });
  assert.deepEqual(config.server, DEFAULT_SERVER);
  const provider = config.providers.openai;
  assert.deepEqual(provider.timeouts, { connect: 10 * SECOND, firstByte: 60 * SECOND, idle: 30 * SECOND, total: 10 * MINUTE });
  assert.deepEqual(provider.pool, { connections: 100, keepAliveTimeout: 5 * MINUTE, http2: false });
  assert.deepEqual(config.models.chat.retry, { attempts: 3, baseDelay: 250, maxDelay: 8 * SECOND });
  assert.deepEqual(config.models.chat.targets[0], { provider: "openai", model: "gpt-4o-mini", priority: 0, weight: 1 });
  assert.equal(config.source, "inline");
  assert.deepEqual(provider.timeouts, { ...DEFAULTS.timeouts });
});

test("the defaults: section applies per key, below each provider's and model's own settings", () => {
  const raw = minimal();
  raw.defaults = {
    timeouts: { connect: "2s", total: "1m" },
    pool: { connections: 8, http2: true },
    retry: { attempts: 5, max_delay: "20s" },
  };
  raw.providers.openai.timeouts = { total: "30s" };
  raw.providers.openai.pool = { keepalive_timeout: "1m" };
  raw.models.chat.retry = { base_delay: "500ms" };
  const config = resolveConfig(raw, { env: {} });
  assert.deepEqual(config.providers.openai.timeouts, { connect: 2 * SECOND, firstByte: 60 * SECOND, idle: 30 * SECOND, total: 30 * SECOND });
  assert.deepEqual(config.providers.openai.pool, { connections: 8, keepAliveTimeout: MINUTE, http2: true });
  assert.deepEqual(config.models.chat.retry, { attempts: 5, baseDelay: 500, maxDelay: 20 * SECOND });
});

test("shorthand targets split at the first slash", () => {
  const raw = minimal();
  raw.models.chat.targets = ["openai/gpt-4o", "openai/meta-llama/llama-3-70b"];
  const { targets } = resolveConfig(raw, { env: {} }).models.chat;
  assert.deepEqual(targets, [
    { provider: "openai", model: "gpt-4o", priority: 0, weight: 1 },
    { provider: "openai", model: "meta-llama/llama-3-70b", priority: 0, weight: 1 },
  ]);
});

test("base_url loses its trailing slash; demo providers need none", () => {
  const raw = minimal();
  raw.providers.openai.base_url = "http://127.0.0.1:9001/v1/";
  raw.providers.local = { type: "demo" };
  const config = resolveConfig(raw, { env: {} });
  assert.equal(config.providers.openai.baseUrl, "http://127.0.0.1:9001/v1");
  assert.equal(config.providers.local.type, "demo");
  assert.equal(config.providers.local.baseUrl, "demo://local");
});

test("an empty api_key is left out", () => {
  const raw = minimal();
  raw.providers.openai.api_key = "${MAYBE_KEY:-}";
  const config = resolveConfig(raw, { env: {} });
  assert.equal("apiKey" in config.providers.openai, false);
});

test("numbers and booleans may come from variables as strings", () => {
  const raw = minimal();
  raw.server = { port: "${PORT}", max_body: 1024 };
  raw.providers.openai.pool = { http2: "${H2}", connections: "${CONNS}" };
  const config = resolveConfig(raw, { env: { PORT: "8080", H2: "true", CONNS: "4" } });
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.maxBody, 1024);
  assert.equal(config.providers.openai.pool.http2, true);
  assert.equal(config.providers.openai.pool.connections, 4);
});

test("empty sections and an empty file are allowed", () => {
  const config = resolveConfig(null, { env: {} });
  assert.deepEqual(config.providers, {});
  assert.deepEqual(config.models, {});
  assert.equal(config.server.port, 4000);
  const withNulls = resolveConfig({ server: null, defaults: null, providers: null, models: null }, { env: {} });
  assert.deepEqual(withNulls.models, {});
});
