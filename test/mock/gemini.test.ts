/** The mock speaking Google's Gemini API: answers, streams, embeddings, models, auth and faults in Google's shapes. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream } from "../../src/mock/server.ts";

let mock: MockUpstream;
let keyed: MockUpstream;
const base = (m: MockUpstream) => m.url.replace(/\/v1$/, "/v1beta");

before(async () => {
  mock = await startMockUpstream({ tokens: 4, models: ["gemini-2.5-flash", "gemini-embedding-001"] });
  keyed = await startMockUpstream({ apiKey: "AIza-right" });
});
after(async () => {
  await mock.close();
  await keyed.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}, m: MockUpstream = mock): Promise<Response> {
  return fetch(`${base(m)}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

const ask = (text = "hi", extra: Record<string, unknown> = {}) => ({ contents: [{ role: "user", parts: [{ text }] }], ...extra });
const weather = { functionDeclarations: [{ name: "weather", parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" }, unit: { type: "string", enum: ["C", "F"] } }, required: ["city", "unit"] } }, { name: "time" }] };

/** Parses an SSE body of Google's events (CRLF between them). */
function events(text: string): Array<Record<string, any>> {
  assert.ok(text.endsWith("\r\n\r\n"), "events end with CRLF CRLF");
  return text.split("\r\n\r\n").filter((e) => e !== "").map((e) => {
    assert.ok(e.startsWith("data: "), `not a data event: ${e}`);
    return JSON.parse(e.slice(6));
  });
}

async function googleError(res: Response, status: number, name: string): Promise<{ code: number; message: string; status: string; details?: any[] }> {
  assert.equal(res.status, status);
  const body = (await res.json()) as { error: { code: number; message: string; status: string } };
  assert.equal(body.error.code, status);
  assert.equal(body.error.status, name);
  assert.equal(typeof body.error.message, "string");
  return body.error;
}

describe("generateContent", () => {
  test("a text answer in Google's shape, with usage, model version and response id", async () => {
    const res = await post("/models/gemini-2.5-flash:generateContent", ask("x".repeat(40), { systemInstruction: { parts: [{ text: "be brief" }] } }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    const c = body.candidates[0];
    assert.equal(c.content.role, "model");
    assert.equal(c.content.parts.map((p: { text: string }) => p.text).join(""), "Hello from the Switchyard");
    assert.equal(c.finishReason, "STOP");
    assert.deepEqual(body.usageMetadata, { promptTokenCount: 12, candidatesTokenCount: 4, totalTokenCount: 16 });
    assert.equal(body.modelVersion, "gemini-2.5-flash");
    assert.equal(typeof body.responseId, "string");
  });

  test("maxOutputTokens cuts the answer with MAX_TOKENS; includeThoughts adds a thought and signs the answer", async () => {
    const body = (await (await post("/models/m:generateContent", ask("hi", { generationConfig: { maxOutputTokens: 2, thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } } }))).json()) as any;
    const parts = body.candidates[0].content.parts;
    assert.equal(body.candidates[0].finishReason, "MAX_TOKENS");
    assert.deepEqual(parts[0], { text: "Thinking it over.", thought: true });
    assert.equal(typeof parts.at(-1).thoughtSignature, "string");
    assert.equal(body.usageMetadata.thoughtsTokenCount, 4);
  });

  test("with functionDeclarations it calls a function: arguments for its required properties, the first call signed", async () => {
    const body = (await (await post("/models/m:generateContent", ask("weather?", { tools: [weather] }))).json()) as any;
    const parts = body.candidates[0].content.parts;
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0].functionCall, { name: "weather", args: { city: "mock", unit: "C" } });
    assert.equal(typeof parts[0].thoughtSignature, "string");
    assert.equal(body.candidates[0].finishReason, "STOP");
  });

  test("x-mock-tool-calls: 2 makes two calls, only the first signed; allowedFunctionNames and mode NONE are obeyed", async () => {
    const two = (await (await post("/models/m:generateContent", ask("x", { tools: [weather] }), { "x-mock-tool-calls": "2" })).json()) as any;
    const parts = two.candidates[0].content.parts;
    assert.deepEqual(parts.map((p: any) => p.functionCall.name), ["weather", "time"]);
    assert.equal(parts[1].thoughtSignature, undefined);
    const only = (await (await post("/models/m:generateContent", ask("x", { tools: [weather], toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["time"] } } }))).json()) as any;
    assert.equal(only.candidates[0].content.parts[0].functionCall.name, "time");
    const none = (await (await post("/models/m:generateContent", ask("x", { tools: [weather], toolConfig: { functionCallingConfig: { mode: "NONE" } } }))).json()) as any;
    assert.equal(typeof none.candidates[0].content.parts[0].text, "string");
    await googleError(await post("/models/m:generateContent", ask("x", { tools: [weather] }), { "x-mock-tool-calls": "zero" }), 400, "INVALID_ARGUMENT");
  });

  test("after a functionResponse it answers in text; a call sent back without its signature is refused", async () => {
    const call = { role: "model", parts: [{ functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "c2ln" }] };
    const result = { role: "user", parts: [{ functionResponse: { name: "weather", response: { temp: 21 } } }] };
    const ok = await post("/models/m:generateContent", { contents: [ask().contents[0], call, result], tools: [weather] });
    assert.equal(ok.status, 200);
    assert.equal(typeof ((await ok.json()) as any).candidates[0].content.parts[0].text, "string");
    const unsigned = { role: "model", parts: [{ functionCall: { name: "weather", args: { city: "Paris" } } }] };
    const err = await googleError(await post("/models/m:generateContent", { contents: [ask().contents[0], unsigned, result], tools: [weather] }), 400, "INVALID_ARGUMENT");
    assert.match(err.message, /thought_signature/);
  });

  test("like Gemini, fields it does not know are refused: OpenAI's, and JSON Schema keys outside its subset", async () => {
    const openai = await googleError(await post("/models/m:generateContent", { ...ask(), messages: [] }), 400, "INVALID_ARGUMENT");
    assert.match(openai.message, /Unknown name "messages"/);
    const schema = { functionDeclarations: [{ name: "f", parameters: { type: "object", properties: { a: { type: "string" } }, additionalProperties: false } }] };
    const bad = await googleError(await post("/models/m:generateContent", ask("x", { tools: [schema] })), 400, "INVALID_ARGUMENT");
    assert.match(bad.message, /Unknown name "additionalProperties" at 'tools\[0\]\.function_declarations\[0\]\.parameters'/);
    const empty = { functionDeclarations: [{ name: "f", parameters: { type: "object", properties: {} } }] };
    await googleError(await post("/models/m:generateContent", ask("x", { tools: [empty] })), 400, "INVALID_ARGUMENT");
    await googleError(await post("/models/m:generateContent", ask("x", { generationConfig: { max_tokens: 5 } })), 400, "INVALID_ARGUMENT");
    await googleError(await post("/models/m:generateContent", { contents: [] }), 400, "INVALID_ARGUMENT");
    await googleError(await post("/models/m:generateContent", { contents: [{ role: "assistant", parts: [{ text: "x" }] }] }), 400, "INVALID_ARGUMENT");
    await googleError(await post("/models/m:generateContent", "{not json"), 400, "INVALID_ARGUMENT");
  });
});

describe("streamGenerateContent", () => {
  test("alt=sse: one whole GenerateContentResponse per event, the finishReason and full usage on the last", async () => {
    const res = await post("/models/gemini-2.5-flash:streamGenerateContent?alt=sse", ask());
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const list = events(await res.text());
    assert.equal(list.length, 4);
    assert.equal(list.map((e) => e.candidates[0].content.parts[0].text).join(""), "Hello from the Switchyard");
    assert.deepEqual(list.map((e) => e.candidates[0].finishReason), [undefined, undefined, undefined, "STOP"]);
    assert.equal(list[0].usageMetadata.candidatesTokenCount, undefined);
    assert.equal(list[3].usageMetadata.candidatesTokenCount, 4);
    assert.ok(list.every((e) => e.responseId === list[0].responseId && e.modelVersion === "gemini-2.5-flash"));
  });

  test("function calls arrive whole, one event each", async () => {
    const list = events(await (await post("/models/m:streamGenerateContent?alt=sse", ask("x", { tools: [weather] }), { "x-mock-tool-calls": "2" })).text());
    assert.deepEqual(list.map((e) => e.candidates[0].content.parts[0].functionCall.name), ["weather", "time"]);
    assert.equal(list[1].candidates[0].finishReason, "STOP");
  });

  test("without alt=sse the stream is a JSON array", async () => {
    const list = (await (await post("/models/m:streamGenerateContent", ask())).json()) as any[];
    assert.ok(Array.isArray(list));
    assert.equal(list.at(-1).candidates[0].finishReason, "STOP");
  });
});

describe("embeddings and models", () => {
  test("embedContent: one vector, outputDimensionality honoured, the same text the same vector", async () => {
    const a = (await (await post("/models/gemini-embedding-001:embedContent", { content: { parts: [{ text: "hello" }] }, outputDimensionality: 16 })).json()) as any;
    assert.equal(a.embedding.values.length, 16);
    const b = (await (await post("/models/gemini-embedding-001:embedContent", { content: { parts: [{ text: "hello" }] }, outputDimensionality: 16 })).json()) as any;
    assert.deepEqual(a, b);
  });

  test("batchEmbedContents: one vector per request; each request must name the batch's model", async () => {
    const req = (text: string, model = "models/gemini-embedding-001") => ({ model, content: { parts: [{ text }] } });
    const ok = (await (await post("/models/gemini-embedding-001:batchEmbedContents", { requests: [req("a"), req("b")] })).json()) as any;
    assert.equal(ok.embeddings.length, 2);
    assert.notDeepEqual(ok.embeddings[0].values, ok.embeddings[1].values);
    await googleError(await post("/models/gemini-embedding-001:batchEmbedContents", { requests: [req("a", "models/other")] }), 400, "INVALID_ARGUMENT");
    await googleError(await post("/models/gemini-embedding-001:batchEmbedContents", { requests: Array.from({ length: 101 }, () => req("a")) }), 400, "INVALID_ARGUMENT");
    await googleError(await post("/models/gemini-embedding-001:embedContent", { input: "openai's shape" }), 400, "INVALID_ARGUMENT");
  });

  test("GET /v1beta/models lists the models as Google does", async () => {
    const body = (await (await fetch(`${base(mock)}/models`)).json()) as any;
    assert.deepEqual(body.models.map((m: { name: string }) => m.name), ["models/gemini-2.5-flash", "models/gemini-embedding-001"]);
    assert.deepEqual(body.models[1].supportedGenerationMethods, ["embedContent", "batchEmbedContents"]);
  });

  test("an unknown method is a 404 in Google's shape", async () => {
    await googleError(await post("/models/m:countTokens", ask()), 404, "NOT_FOUND");
  });
});

describe("keys and faults", () => {
  test("the key goes in x-goog-api-key (or ?key=); a wrong one is 400 API_KEY_INVALID, none is 403", async () => {
    assert.equal((await post("/models/m:generateContent", ask(), { "x-goog-api-key": "AIza-right" }, keyed)).status, 200);
    assert.equal((await fetch(`${base(keyed)}/models?key=AIza-right`)).status, 200);
    const wrong = await googleError(await post("/models/m:generateContent", ask(), { "x-goog-api-key": "AIza-wrong" }, keyed), 400, "INVALID_ARGUMENT");
    assert.equal(wrong.details?.[0].reason, "API_KEY_INVALID");
    await googleError(await post("/models/m:generateContent", ask(), { authorization: "Bearer AIza-right" }, keyed), 403, "PERMISSION_DENIED");
  });

  test("status faults carry Google's error body: 429 RESOURCE_EXHAUSTED with RetryInfo and Retry-After, 503 UNAVAILABLE", async () => {
    const res = await post("/models/m:generateContent", ask(), { "x-mock-fault": "status=429;retry-after=3" });
    assert.equal(res.headers.get("retry-after"), "3");
    const err = await googleError(res, 429, "RESOURCE_EXHAUSTED");
    assert.deepEqual(err.details, [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "3s" }]);
    await googleError(await post("/models/m:generateContent", ask(), { "x-mock-fault": "status=503" }), 503, "UNAVAILABLE");
    await googleError(await post("/models/m:generateContent", ask(), { "x-mock-fault": "status=500" }), 500, "INTERNAL");
  });

  test("error-event: good events, then Google's error as an event", async () => {
    const list = events(await (await post("/models/m:streamGenerateContent?alt=sse", ask(), { "x-mock-fault": "error-event;after=1" })).text());
    assert.equal(list.length, 2);
    assert.equal(typeof list[0].candidates[0].content.parts[0].text, "string");
    assert.deepEqual(list[1], { error: { code: 500, message: "Injected error event from the Switchyard mock.", status: "INTERNAL" } });
  });

  test("the other faults work as for every API: malformed cuts the JSON", async () => {
    const text = await (await post("/models/m:streamGenerateContent?alt=sse", ask(), { "x-mock-fault": "malformed;after=1" })).text();
    const last = text.trim().split(/\r?\n\r?\n/).at(-1)!;
    assert.throws(() => JSON.parse(last.slice(6)));
  });
});
