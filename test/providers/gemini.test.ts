import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { prepareProvider } from "../../src/providers/prepare.ts";
import { geminiAdapter } from "../../src/providers/gemini/index.ts";
import { adapterFor } from "../../src/providers/registry.ts";

const googleError = (code: number, status: string, message = "m", details?: unknown[]) => JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

function provider(raw: Record<string, unknown> = {}) {
  const config = resolveConfig({ providers: { g: { type: "gemini", api_key: "AIza-test", ...raw } }, models: { m: { targets: ["g/gemini-2.5-flash"] } } }, { env: {}, source: "test" });
  return prepareProvider(config.providers.g, geminiAdapter);
}

test("type gemini is registered, and its base_url defaults to Google AI Studio's v1beta", () => {
  assert.equal(adapterFor("gemini"), geminiAdapter);
  const p = provider();
  assert.equal(p.origin, "https://generativelanguage.googleapis.com");
  assert.equal(p.pathPrefix, "/v1beta");
  assert.equal(p.keyHeaders[0]["x-goog-api-key"], "AIza-test");
  assert.equal(p.keyHeaders[0].authorization, undefined, "the key goes in x-goog-api-key only");
});

test("calls put the model in the path: generateContent, streamGenerateContent with SSE, embedContent, batchEmbedContents", () => {
  const p = provider({ base_url: "http://127.0.0.1:9/v1beta/" });
  const call = (op: "chat" | "embeddings", stream: boolean, body: Record<string, unknown> = {}, model = "gemini-2.5-flash") =>
    geminiAdapter.buildCall({ op, body, model, stream, provider: p, headers: p.keyHeaders[0] });
  assert.equal(call("chat", false).path, "/v1beta/models/gemini-2.5-flash:generateContent");
  assert.equal(call("chat", true).path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  assert.equal(call("chat", false, {}, "models/gemini-2.0-flash").path, "/v1beta/models/gemini-2.0-flash:generateContent");
  assert.equal(call("chat", false, {}, "tunedModels/my-tune").path, "/v1beta/tunedModels/my-tune:generateContent");
  assert.equal(call("embeddings", false, { content: {} }, "gemini-embedding-001").path, "/v1beta/models/gemini-embedding-001:embedContent");
  assert.equal(call("embeddings", false, { requests: [] }, "gemini-embedding-001").path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
  assert.equal(call("chat", false, { contents: [] }).body, '{"contents":[]}');
  assert.deepEqual(geminiAdapter.probeCall(p, p.keyHeaders[0]), { method: "GET", path: "/v1beta/models", headers: p.keyHeaders[0] });
  assert.equal(geminiAdapter.supports("chat") && geminiAdapter.supports("embeddings"), true);
  assert.equal(geminiAdapter.supports("completions"), false);
});

test("an OpenAI embeddings request: one input to embedContent, several to a batch naming the model, dimensions as outputDimensionality", () => {
  const t = geminiAdapter.translateOp!;
  assert.deepEqual(t.request("embeddings", { model: "e", input: "hello", dimensions: 256 }, "gemini-embedding-001"), {
    content: { parts: [{ text: "hello" }] },
    outputDimensionality: 256,
  });
  assert.deepEqual(t.request("embeddings", { model: "e", input: ["a", "b"] }, "gemini-embedding-001"), {
    requests: [
      { model: "models/gemini-embedding-001", content: { parts: [{ text: "a" }] } },
      { model: "models/gemini-embedding-001", content: { parts: [{ text: "b" }] } },
    ],
  });
  assert.throws(() => t.request("embeddings", { model: "e", input: [1, 2, 3] }, "x"), (e: unknown) => (e as { code?: string }).code === "SY_ERR_BAD_REQUEST");
});

test("Gemini's embeddings come back as OpenAI's list, as floats or base64 float32 as the client asked", () => {
  const t = geminiAdapter.translateOp!;
  const one = t.answer("embeddings", { embedding: { values: [0.5, -0.25] } }, "gemini-embedding-001", { input: "x" });
  assert.deepEqual(one, { object: "list", data: [{ object: "embedding", index: 0, embedding: [0.5, -0.25] }], model: "gemini-embedding-001" });
  const batch = t.answer("embeddings", { embeddings: [{ values: [1] }, { values: [2] }], usageMetadata: { promptTokenCount: 4 } }, "e", { encoding_format: "base64" });
  const data = batch.data as Array<{ index: number; embedding: string }>;
  assert.deepEqual(data.map((d) => d.index), [0, 1]);
  const buf = Buffer.from(data[1].embedding, "base64");
  assert.equal(buf.readFloatLE(0), 2);
  assert.deepEqual(batch.usage, { prompt_tokens: 4, total_tokens: 4 });
  assert.throws(() => t.answer("embeddings", { nothing: true }, "e"), (e: unknown) => (e as { code?: string }).code === "SY_ERR_UPSTREAM_MALFORMED");
});

test("Google's error statuses: overloads and quotas retried, client errors not, the canonical status kept for the client", () => {
  const cases: Array<[number, string, number, boolean]> = [
    [429, "RESOURCE_EXHAUSTED", 429, true],
    [503, "UNAVAILABLE", 503, true],
    [500, "INTERNAL", 500, true],
    [504, "DEADLINE_EXCEEDED", 504, true],
    // A refused key is the provider's fault (SY_ERR_UPSTREAM_AUTH, 502): another key, another target.
    [403, "PERMISSION_DENIED", 502, true],
    [401, "UNAUTHENTICATED", 502, true],
    [400, "INVALID_ARGUMENT", 400, false],
    [400, "FAILED_PRECONDITION", 400, false],
    [404, "NOT_FOUND", 404, false],
  ];
  for (const [code, status, expected, retryable] of cases) {
    const err = geminiAdapter.classifyStatus({ status: code, headers: {}, body: googleError(code, status, `it was ${status}`) }, 0);
    assert.equal(err.status, expected, status);
    assert.equal(err.retryable, retryable, status);
    assert.equal(err.code, expected === 502 ? "SY_ERR_UPSTREAM_AUTH" : retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR", status);
    assert.match(err.message, new RegExp(`it was ${status}$`));
    assert.equal(err.upstream?.type, status);
    // The same error as a stream event means the same.
    const ev = geminiAdapter.classifyStreamError(JSON.parse(googleError(code, status)));
    assert.equal(ev?.status, expected, `${status} as an event`);
    assert.equal(ev?.retryable, retryable, `${status} as an event`);
  }
});

test("a refused key (400 API_KEY_INVALID) is the provider's credentials failing: another key or target, then a 502", () => {
  const body = googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
    { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" },
  ]);
  const err = geminiAdapter.classifyStatus({ status: 400, headers: {}, body }, 0);
  assert.equal(err.code, "SY_ERR_UPSTREAM_AUTH");
  assert.equal(err.status, 502);
  assert.equal(err.retryable, true);
  assert.equal(err.upstream?.code, "API_KEY_INVALID");
  assert.equal(geminiAdapter.classifyStreamError(JSON.parse(body))?.code, "SY_ERR_UPSTREAM_AUTH");
});

test("when to retry: RetryInfo's retryDelay, or Retry-After", () => {
  const body = googleError(429, "RESOURCE_EXHAUSTED", "quota", [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "34s" }]);
  assert.equal(geminiAdapter.classifyStatus({ status: 429, headers: {}, body }, 0).retryAfterMs, 34_000);
  assert.equal(geminiAdapter.classifyStatus({ status: 503, headers: { "retry-after": "2" }, body: googleError(503, "UNAVAILABLE") }, 0).retryAfterMs, 2000);
});

test("a body that is no Google error is classified by its status, with an excerpt", () => {
  const err = geminiAdapter.classifyStatus({ status: 502, headers: {}, body: "<html>Bad Gateway</html>" }, 0);
  assert.equal(err.status, 502);
  assert.equal(err.retryable, true);
  assert.match(err.message, /Bad Gateway/);
  assert.equal(geminiAdapter.classifyStatus({ status: 404, headers: {}, body: "" }, 0).retryable, false);
});

test("stream events that are no error are not classified; an error without a status is a failing upstream", () => {
  for (const payload of [{ candidates: [] }, { error: null }, [], "text", null]) assert.equal(geminiAdapter.classifyStreamError(payload), undefined, JSON.stringify(payload));
  const err = geminiAdapter.classifyStreamError({ error: { message: "odd" } });
  assert.equal(err?.status, 502);
  assert.equal(err?.retryable, true);
});
