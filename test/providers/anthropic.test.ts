/** The Anthropic adapter: where calls go, how a key is sent, what Anthropic's errors mean; and its config type. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, resolveConfig } from "../../src/config/load.ts";
import { prepareProvider } from "../../src/providers/prepare.ts";
import { adapterFor } from "../../src/providers/registry.ts";
import { anthropicAdapter } from "../../src/providers/anthropic/index.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const errorBody = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message }, request_id: "req_011CSHoEeqs5C35K2UUqR7Fy" });
const status = (s: number, body: string, headers: Record<string, string> = {}) => anthropicAdapter.classifyStatus({ status: s, headers, body }, NOW);

function config(provider: Record<string, unknown>) {
  return resolveConfig({ providers: { claude: { type: "anthropic", ...provider } }, models: { chat: { targets: ["claude/claude-sonnet-4-5"] } } }, { env: {}, source: "test" });
}

describe("config", () => {
  test("type anthropic maps to the anthropic adapter, and base_url defaults to Anthropic's API", () => {
    const c = config({ api_key: "sk-ant-1" });
    assert.equal(c.providers.claude.baseUrl, "https://api.anthropic.com/v1");
    assert.equal(adapterFor("anthropic"), anthropicAdapter);
    assert.equal(config({ base_url: "http://127.0.0.1:9/v1/" }).providers.claude.baseUrl, "http://127.0.0.1:9/v1");
  });

  test("other types still need their base_url", () => {
    assert.throws(
      () => resolveConfig({ providers: { p: { type: "openai" } } }, { env: {}, source: "test" }),
      (e: unknown) => e instanceof ConfigError && /providers\.p\.base_url/.test(e.message),
    );
  });
});

describe("calls", () => {
  const prepared = prepareProvider(config({ api_key: "sk-ant-1", headers: { "anthropic-beta": "prompt-caching-2024-07-31" } }).providers.claude, anthropicAdapter);
  const headers = prepared.keyHeaders[0];

  test("the key goes in x-api-key, with anthropic-version; no bearer token", () => {
    assert.deepEqual(headers, {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "x-api-key": "sk-ant-1",
      "anthropic-beta": "prompt-caching-2024-07-31",
    });
  });

  test("a configured anthropic-version wins over the built-in one", () => {
    const p = prepareProvider(config({ api_key: "k", headers: { "Anthropic-Version": "2024-01-01" } }).providers.claude, anthropicAdapter);
    assert.equal(p.keyHeaders[0]["anthropic-version"], "2024-01-01");
  });

  test("chat goes to POST {base}/messages with the upstream model; nothing else is served", () => {
    const call = anthropicAdapter.buildCall({ op: "chat", body: { model: "chat", messages: [], max_tokens: 5 }, model: "claude-sonnet-4-5", stream: false, provider: prepared, headers });
    assert.equal(call.method, "POST");
    assert.equal(call.path, "/v1/messages");
    assert.equal(JSON.parse(call.body!).model, "claude-sonnet-4-5");
    assert.equal(call.headers, headers);
    assert.equal(anthropicAdapter.supports("chat"), true);
    assert.equal(anthropicAdapter.supports("embeddings"), false);
    assert.equal(anthropicAdapter.supports("completions"), false);
  });

  test("the health probe lists models", () => {
    assert.deepEqual(anthropicAdapter.probeCall(prepared, headers), { method: "GET", path: "/v1/models", headers });
  });
});

describe("classifyStatus", () => {
  test("Anthropic's statuses: 529 and 429 are retried, client errors are not", () => {
    const cases: Array<[number, string, boolean]> = [
      [400, "invalid_request_error", false],
      // A refused key is the provider's fault: SY_ERR_UPSTREAM_AUTH, tried with another key or target.
      [401, "authentication_error", true],
      [403, "permission_error", true],
      [404, "not_found_error", false],
      [413, "request_too_large", false],
      [429, "rate_limit_error", true],
      [500, "api_error", true],
      [529, "overloaded_error", true],
    ];
    for (const [s, type, retryable] of cases) {
      const err = status(s, errorBody(type, `a ${type}`));
      assert.equal(err.retryable, retryable, type);
      if (s === 401 || s === 403) {
        assert.equal(err.code, "SY_ERR_UPSTREAM_AUTH", type);
        assert.equal(err.status, 502, type);
        assert.match(err.message, new RegExp(`key refused \\(${s}\\): a ${type}`));
        continue;
      }
      assert.equal(err.status, s, type);
      assert.equal(err.code, retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", type);
      assert.equal(err.message, `a ${type}`);
      assert.deepEqual(err.upstream, { type });
    }
  });

  test("retry-after is honoured on 429 and 529", () => {
    assert.equal(status(429, errorBody("rate_limit_error", "slow"), { "retry-after": "7" }).retryAfterMs, 7000);
    assert.equal(status(529, errorBody("overloaded_error", "busy"), { "retry-after": "2" }).retryAfterMs, 2000);
    assert.equal(status(400, errorBody("invalid_request_error", "no"), { "retry-after": "2" }).retryAfterMs, undefined);
  });

  test("a body that is not Anthropic's error shape is quoted", () => {
    const err = status(502, "<html>Bad Gateway</html>");
    assert.equal(err.message, "upstream answered 502: <html>Bad Gateway</html>");
    assert.equal(err.retryable, true);
  });
});

describe("classifyStreamError", () => {
  const classify = anthropicAdapter.classifyStreamError;

  test("events that are no error are not classified", () => {
    for (const payload of [{ type: "message_start", message: { id: "msg_1" } }, { type: "ping" }, { type: "content_block_delta", index: 0, delta: {} }, null, "text", []]) {
      assert.equal(classify(payload), undefined, JSON.stringify(payload));
    }
  });

  test("an error event is classified as the same error sent as a status", () => {
    const cases: Array<[string, number]> = [
      ["overloaded_error", 529],
      ["rate_limit_error", 429],
      ["api_error", 500],
      ["authentication_error", 502],
      ["permission_error", 502],
      ["invalid_request_error", 400],
      ["not_found_error", 404],
      ["request_too_large", 413],
    ];
    for (const [type, s] of cases) {
      const err = classify({ type: "error", error: { type, message: "m" } });
      assert.equal(err?.status, s, type);
      assert.equal(err.retryable, status(s === 502 ? (type === "authentication_error" ? 401 : 403) : s, errorBody(type, "m")).retryable, type);
      assert.equal(err.upstream?.type, type);
    }
  });

  test("an error of a type not known yet is a failing upstream, retried", () => {
    const err = classify({ type: "error", error: { type: "something_new", message: "odd" } });
    assert.equal(err?.status, 502);
    assert.equal(err.retryable, true);
    assert.equal(err.message, "odd");
  });
});
