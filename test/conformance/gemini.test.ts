/** The Gemini codec against fixtures in the Gemini API's wire format (generateContent, streamGenerateContent?alt=sse). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gemini } from "../../src/codecs/gemini/index.ts";
import { geminiAdapter } from "../../src/providers/gemini/index.ts";
import { runConformance } from "./suite.ts";

const MODEL = "gemini-2.5-flash";
const RID = "rsp-7Yk2";

/** One streamed GenerateContentResponse, as Google sends it (CRLF between events). */
const event = (body: Record<string, unknown>) => `data: ${JSON.stringify({ ...body, modelVersion: MODEL, responseId: RID })}\r\n\r\n`;
const candidate = (parts: unknown[], finishReason?: string) => ({ candidates: [{ content: { parts, role: "model" }, ...(finishReason ? { finishReason } : {}), index: 0 }] });
const usage = (candidates: number, extra: Record<string, number> = {}) => ({
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: candidates, totalTokenCount: 12 + candidates + (extra.thoughtsTokenCount ?? 0), ...extra },
});

const weather = { type: "function" as const, function: { name: "weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

runConformance("gemini", gemini, geminiAdapter.classifyStreamError, {
  requests: [
    {
      name: "system and developer messages become the systemInstruction; roles user and model",
      model: MODEL,
      request: {
        model: "chat",
        messages: [
          { role: "system", content: "be brief" },
          { role: "developer", content: [{ type: "text", text: "answer in French", cache_control: { type: "ephemeral" } }] },
          { role: "user", content: "hi" },
          { role: "assistant", content: "salut" },
          { role: "user", content: [{ type: "text", text: "and this?" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }, { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } }] },
        ],
        max_tokens: 100,
        temperature: 0.2,
        top_p: 0.9,
        stop: "END",
      },
      expect: {
        systemInstruction: { parts: [{ text: "be brief" }, { text: "answer in French" }] },
        contents: [
          { role: "user", parts: [{ text: "hi" }] },
          { role: "model", parts: [{ text: "salut" }] },
          { role: "user", parts: [{ text: "and this?" }, { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } }, { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/cat.jpg" } }] },
        ],
        generationConfig: { maxOutputTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ["END"] },
        tools: undefined,
      },
    },
    {
      name: "tools, tool_choice, a tool-call round trip: functionCall with its signature back, functionResponse named after the call",
      model: MODEL,
      request: {
        model: "chat",
        messages: [
          { role: "user", content: "weather in Paris and Oslo?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "call_rsp_0__sig_c2lnLzE-", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
              { id: "call_rsp_1", type: "function", function: { name: "time", arguments: '{"tz":"CET"}' } },
            ],
          },
          { role: "tool", tool_call_id: "call_rsp_0__sig_c2lnLzE-", content: '{"temp":21}' },
          { role: "tool", tool_call_id: "call_rsp_1", content: "12:00" },
        ],
        tools: [weather, { type: "function", function: { name: "time", parameters: { type: "object", properties: {} } } }],
        tool_choice: { type: "function", function: { name: "weather" } },
      },
      expect: {
        contents: [
          { role: "user", parts: [{ text: "weather in Paris and Oslo?" }] },
          {
            role: "model",
            parts: [
              { functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "c2lnLzE+" },
              { functionCall: { name: "time", args: { tz: "CET" } } },
            ],
          },
          {
            role: "user",
            parts: [
              { functionResponse: { name: "weather", response: { temp: 21 } } },
              { functionResponse: { name: "time", response: { output: "12:00" } } },
            ],
          },
        ],
        tools: [{ functionDeclarations: [{ name: "weather", description: "Weather in a city", parameters: weather.function.parameters }, { name: "time" }] }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["weather"] } },
      },
    },
    {
      name: "signed thoughts go back as thought parts, a bare signature on the text, unsigned reasoning is left out",
      model: MODEL,
      request: {
        model: "chat",
        messages: [
          { role: "user", content: "2+2?" },
          { role: "assistant", content: "4", reasoning: [{ text: "adding", signature: "U0lH" }, { text: "", signature: "VEVYVA==" }, { text: "unsigned" }] },
          { role: "user", content: "and 3+3?" },
        ],
        reasoning_effort: "low",
        response_format: { type: "json_object" },
      },
      expect: {
        contents: [
          { role: "user", parts: [{ text: "2+2?" }] },
          { role: "model", parts: [{ text: "adding", thought: true, thoughtSignature: "U0lH" }, { text: "4", thoughtSignature: "VEVYVA==" }] },
          { role: "user", parts: [{ text: "and 3+3?" }] },
        ],
        generationConfig: { responseMimeType: "application/json", thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
      },
    },
    {
      name: "json_schema as responseSchema, cleaned; Gemini 3 takes a thinking level; tool_choice required is ANY",
      model: "gemini-3-pro-preview",
      request: {
        model: "chat",
        messages: [{ role: "user", content: "x" }],
        tools: [weather],
        tool_choice: "required",
        reasoning_effort: "high",
        response_format: {
          type: "json_schema",
          json_schema: { name: "r", strict: true, schema: { type: "object", properties: { a: { type: ["string", "null"] } }, required: ["a"], additionalProperties: false } },
        },
      },
      expect: {
        toolConfig: { functionCallingConfig: { mode: "ANY" } },
        generationConfig: {
          responseMimeType: "application/json",
          responseSchema: { type: "object", properties: { a: { type: "string", nullable: true } }, required: ["a"] },
          thinkingConfig: { thinkingLevel: "high", includeThoughts: true },
        },
      },
    },
  ],
  responses: [
    {
      name: "text",
      body: { ...candidate([{ text: "Hello é 👋" }], "STOP"), ...usage(3, { cachedContentTokenCount: 4 }), modelVersion: MODEL, responseId: RID },
      expect: { text: "Hello é 👋", finish: "stop", usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 4 } },
    },
    {
      name: "parallel function calls: stable ids from the responseId, the signature of the first carried in its id",
      body: {
        ...candidate(
          [
            { functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "c2lnLzE+" },
            { functionCall: { name: "weather", args: { city: "Oslo" } } },
          ],
          "STOP",
        ),
        ...usage(20),
        modelVersion: MODEL,
        responseId: RID,
      },
      expect: {
        toolCalls: [
          { id: "call_rsp-7Yk2_0__sig_c2lnLzE-", name: "weather", arguments: { city: "Paris" } },
          { id: "call_rsp-7Yk2_1", name: "weather", arguments: { city: "Oslo" } },
        ],
        finish: "tool_calls",
      },
    },
    {
      name: "thoughts as reasoning with their signature; thoughts count as output",
      body: {
        ...candidate([{ text: "Let me think. ", thought: true }, { text: "Done.", thought: true, thoughtSignature: "VEhP" }, { text: "42" }], "STOP"),
        ...usage(2, { thoughtsTokenCount: 30 }),
        responseId: RID,
      },
      expect: { text: "42", reasoning: "Let me think. Done.", signatures: ["VEhP"], finish: "stop", usage: { inputTokens: 12, outputTokens: 32, reasoningTokens: 30 } },
    },
    {
      name: "max tokens",
      body: { ...candidate([{ text: "Hel" }], "MAX_TOKENS"), ...usage(1) },
      expect: { text: "Hel", finish: "length" },
    },
    {
      name: "a safety stop is content_filter",
      body: { candidates: [{ finishReason: "SAFETY", index: 0, safetyRatings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true }] }], ...usage(0) },
      expect: { text: "", finish: "content_filter" },
    },
    {
      name: "a blocked prompt (no candidates, promptFeedback.blockReason) is content_filter",
      body: { promptFeedback: { blockReason: "SAFETY", safetyRatings: [] }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 } },
      expect: { text: "", finish: "content_filter", usage: { inputTokens: 8, outputTokens: 0 } },
    },
    {
      name: "recitation is content_filter",
      body: { ...candidate([{ text: "Once upon" }], "RECITATION") },
      expect: { text: "Once upon", finish: "content_filter" },
    },
  ],
  streams: [
    {
      name: "text in pieces, usage growing on every event",
      sse: event({ ...candidate([{ text: "Hel" }]), ...usage(1) }) + event({ ...candidate([{ text: "lo é " }]), ...usage(3) }) + event({ ...candidate([{ text: "👋" }], "STOP"), ...usage(5, { cachedContentTokenCount: 4 }) }),
      expect: { text: "Hello é 👋", finish: "stop", usage: { inputTokens: 12, outputTokens: 5, cachedInputTokens: 4 } },
    },
    {
      name: "parallel function calls arrive whole, with the same ids as the whole answer",
      sse:
        event({ ...candidate([{ functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "c2lnLzE+" }]), ...usage(5) }) +
        event({ ...candidate([{ functionCall: { name: "weather", args: { city: "Oslo" } } }], "STOP"), ...usage(20) }),
      expect: {
        toolCalls: [
          { id: "call_rsp-7Yk2_0__sig_c2lnLzE-", name: "weather", arguments: { city: "Paris" } },
          { id: "call_rsp-7Yk2_1", name: "weather", arguments: { city: "Oslo" } },
        ],
        finish: "tool_calls",
        usage: { outputTokens: 20 },
      },
    },
    {
      name: "thoughts, then text, then the signature on an empty last part",
      sse:
        event({ ...candidate([{ text: "Thinking about ", thought: true }]) }) +
        event({ ...candidate([{ text: "it.", thought: true }]) }) +
        event({ ...candidate([{ text: "Yes" }]) }) +
        event({ ...candidate([{ text: "", thoughtSignature: "U0lH" }], "STOP"), ...usage(1, { thoughtsTokenCount: 9 }) }),
      expect: { reasoning: "Thinking about it.", text: "Yes", signatures: ["U0lH"], finish: "stop", usage: { outputTokens: 10, reasoningTokens: 9 } },
    },
    {
      name: "a blocked prompt",
      sse: event({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } }),
      expect: { text: "", finish: "content_filter", usage: { inputTokens: 7 } },
    },
  ],
  streamErrors: [
    { name: "an overload as the first event", sse: `data: ${JSON.stringify({ error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" } })}\r\n\r\n`, status: 503, retryable: true },
    { name: "quota exhausted mid-stream", sse: event(candidate([{ text: "a" }])) + `data: ${JSON.stringify({ error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } })}\r\n\r\n`, status: 429, retryable: true },
    { name: "an internal error", sse: `data: ${JSON.stringify({ error: { code: 500, message: "An internal error has occurred.", status: "INTERNAL" } })}\n\n`, status: 500, retryable: true },
    { name: "an invalid argument", sse: `data: ${JSON.stringify({ error: { code: 400, message: "Request contains an invalid argument.", status: "INVALID_ARGUMENT" } })}\n\n`, status: 400, retryable: false },
  ],
  truncated: [
    event({ ...candidate([{ text: "cut" }]), ...usage(1) }),
    event(candidate([{ text: "cut" }])) + 'data: {"candidates":[{"content":{"pa',
    event(candidate([{ functionCall: { name: "weather", args: { city: "Paris" } } }])),
  ],
});

test("ids are stable without a responseId: the same answer decodes to the same ids", () => {
  const body = candidate([{ functionCall: { name: "weather", args: { city: "Paris" } } }, { functionCall: { name: "weather", args: { city: "Paris" } } }], "STOP");
  const a = gemini.decodeResponse(structuredClone(body));
  const b = gemini.decodeResponse(structuredClone(body));
  assert.deepEqual(a.toolCalls.map((t) => t.id), b.toolCalls.map((t) => t.id));
  assert.notEqual(a.toolCalls[0].id, a.toolCalls[1].id, "two calls in one answer differ");
  assert.match(a.toolCalls[0].id, /^call_[0-9a-f]{24}$/);
  const streamed = gemini.streamDecoder(geminiAdapter.classifyStreamError);
  const parts = [...streamed.push(Buffer.from(`data: ${JSON.stringify(body)}\r\n\r\n`)), ...streamed.end()];
  const ids = parts.flatMap((p) => (p.type === "tool-call-start" ? [p.id] : []));
  assert.deepEqual(ids, a.toolCalls.map((t) => t.id), "streamed and whole answers give the same ids");
});

test("Gemini's own function call id is kept", () => {
  const r = gemini.decodeResponse(candidate([{ functionCall: { id: "fc-abc", name: "weather", args: {} } }], "STOP"));
  assert.equal(r.toolCalls[0].id, "fc-abc");
  assert.equal(r.toolCalls[0].function.arguments, "{}");
});

test("a tool result that answers no earlier call is a bad request naming the field", () => {
  assert.throws(
    () => gemini.encodeRequest({ model: "m", messages: [{ role: "user", content: "x" }, { role: "tool", tool_call_id: "nope", content: "1" }] }, MODEL),
    (e: unknown) => (e as { code?: string; param?: string }).code === "SY_ERR_BAD_REQUEST" && (e as { param?: string }).param === "messages[1].tool_call_id",
  );
});

test("a client that drops the signature from an id still gets the name right (and sends no signature)", () => {
  const body = gemini.encodeRequest(
    {
      model: "m",
      messages: [
        { role: "assistant", content: null, tool_calls: [{ id: "call_x_0__sig_QUJD", type: "function", function: { name: "weather", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_x_0", content: "sunny" },
      ],
    },
    MODEL,
  );
  assert.deepEqual((body.contents as Array<{ parts: unknown[] }>)[1].parts, [{ functionResponse: { name: "weather", response: { output: "sunny" } } }]);
  assert.deepEqual((body.contents as Array<{ parts: unknown[] }>)[0].parts, [{ functionCall: { name: "weather", args: {} }, thoughtSignature: "QUJD" }]);
});

test("reasoning_effort none turns thinking off; no effort sends no thinkingConfig", () => {
  const off = gemini.encodeRequest({ model: "m", messages: [{ role: "user", content: "x" }], reasoning_effort: "none" as never }, MODEL);
  assert.deepEqual((off.generationConfig as Record<string, unknown>).thinkingConfig, { thinkingBudget: 0 });
  const plain = gemini.encodeRequest({ model: "m", messages: [{ role: "user", content: "x" }] }, MODEL);
  assert.equal(plain.generationConfig, undefined);
});
