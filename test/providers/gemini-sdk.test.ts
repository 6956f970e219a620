/**
 * End to end: the official OpenAI SDK against the gateway, a `gemini`
 * provider behind it on the mock speaking Gemini's API. What is asserted is
 * what the SDK itself parsed, and what the mock (which, like Gemini, refuses
 * unknown fields and unsigned function calls) received.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

const KEY = "AIza-mock-key";
let mock: MockUpstream;
let gw: TestGateway;

before(async () => {
  mock = await startMockUpstream({ apiKey: KEY, tokens: 5 });
  const base_url = mock.url.replace(/\/v1$/, "/v1beta");
  gw = await startGateway({
    providers: {
      gem: { type: "gemini", base_url, api_key: KEY },
      // Configured headers reach the upstream: this one has the mock call two functions at once.
      gem2: { type: "gemini", base_url, api_key: KEY, headers: { "x-mock-tool-calls": "2" } },
      badkey: { type: "gemini", base_url, api_key: "AIza-wrong" },
      quota: { type: "gemini", base_url, api_key: KEY, headers: { "x-mock-fault": "status=429" } },
      broken: { type: "gemini", base_url, api_key: KEY, headers: { "x-mock-fault": "error-event" } },
    },
    models: {
      flash: { targets: ["gem/gemini-2.5-flash"] },
      parallel: { targets: ["gem2/gemini-2.5-flash"] },
      embed: { targets: ["gem/gemini-embedding-001"] },
      refused: { targets: ["badkey/gemini-2.5-flash"] },
      overflow: { targets: ["quota/gemini-2.5-flash", { provider: "broken", model: "gemini-2.5-flash", priority: 1 }, { provider: "gem", model: "gemini-2.5-flash", priority: 2 }], retry: { base_delay: "1ms" } },
    },
  });
});
after(async () => {
  await gw.close();
  await mock.close();
});

/** An OpenAI tool as clients write them: with the JSON Schema keys Gemini refuses. */
const tools: ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "weather",
      description: "The weather in a city",
      parameters: {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        properties: { city: { type: "string" }, unit: { type: ["string", "null"], enum: ["C", "F", null] } },
        required: ["city", "unit"],
        additionalProperties: false,
      },
      strict: true,
    },
  },
  { type: "function", function: { name: "time", parameters: { type: "object", properties: {}, additionalProperties: false } } },
];

const question: ChatCompletionMessageParam[] = [
  { role: "system", content: "Answer briefly." },
  { role: "user", content: "What's the weather in Paris, and the time?" },
];

/** The last request the mock received, with its body. */
const lastRequest = () => mock.requests.at(-1)!;
const signed = (what: string) => (rid: string) => Buffer.from(`mock-signature:${what}:${rid}`).toString("base64");

function resultsFor(calls: Array<{ id: string; function: { name: string } }>): ChatCompletionMessageParam[] {
  return calls.map((c) => ({ role: "tool", tool_call_id: c.id, content: c.function.name === "weather" ? '{"temp":21,"sky":"clear"}' : "12:00" }));
}

/** Asserts the request that carried the tool results: calls signed as the mock signed them, results named after their calls. */
function assertRoundTrip(rid: string): void {
  const req = lastRequest();
  assert.equal(req.status, 200, "the mock accepted the conversation");
  assert.equal(req.headers["x-goog-api-key"], KEY);
  assert.equal(req.headers.authorization, undefined);
  const contents = req.body!.contents as Array<{ role: string; parts: Array<Record<string, any>> }>;
  assert.deepEqual(contents.map((c) => c.role), ["user", "model", "user"]);
  assert.deepEqual(req.body!.systemInstruction, { parts: [{ text: "Answer briefly." }] });
  const calls = contents[1].parts;
  assert.deepEqual(calls.map((p) => p.functionCall), [{ name: "weather", args: { city: "mock", unit: "C" } }, { name: "time", args: {} }]);
  assert.equal(calls[0].thoughtSignature, signed("call")(rid), "the signature went back on its own part, byte for byte");
  assert.equal(calls[1].thoughtSignature, undefined);
  assert.deepEqual(contents[2].parts, [
    { functionResponse: { name: "weather", response: { temp: 21, sky: "clear" } } },
    { functionResponse: { name: "time", response: { output: "12:00" } } },
  ]);
}

/** The responseId the mock gave, read back out of a tool call id. */
function ridOf(id: string): string {
  const m = /^call_([0-9a-f-]{36})_0__sig_/.exec(id);
  assert.ok(m, `a stable id from the response id, carrying the signature: ${id}`);
  return m[1];
}

describe("chat through a gemini provider", () => {
  test("a tool-use round trip, not streamed: parallel calls with stable ids, complete arguments, usage; results named after their calls", async () => {
    const first = await gw.client.chat.completions.create({ model: "parallel", messages: question, tools });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    const calls = choice.message.tool_calls!.filter((c) => c.type === "function");
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.map((c) => c.function.name), ["weather", "time"]);
    assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: "mock", unit: "C" });
    assert.deepEqual(JSON.parse(calls[1].function.arguments), {});
    const rid = ridOf(calls[0].id);
    assert.equal(calls[1].id, `call_${rid}_1`);
    assert.equal(first.usage?.completion_tokens, 10);
    assert.ok((first.usage?.prompt_tokens ?? 0) > 0);
    assert.equal(first.usage?.total_tokens, first.usage!.prompt_tokens + 10);
    // What Gemini was sent: the schema cleaned to what it takes.
    const sent = mock.requests.at(-1)!.body!.tools as Array<{ functionDeclarations: Array<Record<string, unknown>> }>;
    assert.deepEqual(sent[0].functionDeclarations, [
      { name: "weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["C", "F"], nullable: true } }, required: ["city", "unit"] } },
      { name: "time" },
    ]);

    const second = await gw.client.chat.completions.create({ model: "flash", messages: [...question, choice.message, ...resultsFor(calls)], tools });
    assert.equal(second.choices[0].finish_reason, "stop");
    assert.equal(second.choices[0].message.content, "Hello from the Switchyard mock.");
    assertRoundTrip(rid);
  });

  test("a tool-use round trip, streamed: the SDK assembles both calls from their indexes, with usage in the stream", async () => {
    const stream = gw.client.chat.completions.stream({ model: "parallel", messages: question, tools, stream_options: { include_usage: true } });
    const indexes: number[] = [];
    for await (const chunk of stream) for (const t of chunk.choices[0]?.delta.tool_calls ?? []) if (t.id !== undefined) indexes.push(t.index);
    const final = await stream.finalChatCompletion();
    assert.deepEqual(indexes, [0, 1]);
    const choice = final.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    const calls = choice.message.tool_calls!.filter((c) => c.type === "function");
    assert.deepEqual(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]), [["weather", { city: "mock", unit: "C" }], ["time", {}]]);
    const rid = ridOf(calls[0].id);
    assert.equal(calls[1].id, `call_${rid}_1`);
    assert.equal(final.usage?.completion_tokens, 10);

    const answer = gw.client.chat.completions.stream({ model: "flash", messages: [...question, choice.message, ...resultsFor(calls)], tools, stream_options: { include_usage: true } });
    let text = "";
    for await (const chunk of answer) text += chunk.choices[0]?.delta.content ?? "";
    const done = await answer.finalChatCompletion();
    assert.equal(text, "Hello from the Switchyard mock.");
    assert.equal(done.choices[0].finish_reason, "stop");
    assert.equal(done.usage?.completion_tokens, 5);
    assertRoundTrip(rid);
  });

  test("reasoning_effort asks Gemini for its thoughts; they come back as reasoning_content, thoughts counted as reasoning tokens", async () => {
    const r = await gw.client.chat.completions.create({ model: "flash", messages: question, reasoning_effort: "low" });
    assert.deepEqual(lastRequest().body!.generationConfig, { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    const message = r.choices[0].message as typeof r.choices[0]["message"] & { reasoning_content?: string; thinking_blocks?: Array<{ signature: string }> };
    assert.equal(message.reasoning_content, "Thinking it over.");
    assert.equal(message.content, "Hello from the Switchyard mock.");
    assert.equal(r.usage?.completion_tokens_details?.reasoning_tokens, 4);
    assert.equal(r.usage?.completion_tokens, 9);
    // The answer's signature (the mock signs with its responseId, which is the answer's id), offered back as thinking blocks.
    const signature = signed("text")(r.id);
    assert.deepEqual(message.thinking_blocks, [
      { type: "thinking", thinking: "Thinking it over.", signature: "" },
      { type: "thinking", thinking: "", signature },
    ]);
    // A client that sends them back has the signature returned on the answer's text, and the unsigned thought left out.
    await gw.client.chat.completions.create({ model: "flash", messages: [...question, message as ChatCompletionMessageParam, { role: "user", content: "And tomorrow?" }] });
    const contents = lastRequest().body!.contents as Array<{ role: string; parts: unknown[] }>;
    assert.deepEqual(contents[1], { role: "model", parts: [{ text: "Hello from the Switchyard mock.", thoughtSignature: signature }] });
  });

  test("a key Gemini refuses is the provider's fault: a 502 naming its credentials, never the key", async () => {
    await assert.rejects(
      gw.client.chat.completions.create({ model: "refused", messages: question }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 502 && err.code === "SY_ERR_UPSTREAM_AUTH" && /provider "badkey"/.test(err.message),
    );
  });
});

describe("the Responses API through a gemini provider", () => {
  test("a function call and its output round trip, the call's id carrying the signature back", async () => {
    const fn = { type: "function" as const, name: "weather", parameters: (tools[0] as { function: { parameters: Record<string, unknown> } }).function.parameters, strict: true };
    const first = await gw.client.responses.create({ model: "flash", input: "weather in Paris?", tools: [fn], store: false });
    const call = first.output.find((o) => o.type === "function_call");
    assert.ok(call !== undefined && call.type === "function_call");
    assert.equal(call.name, "weather");
    assert.deepEqual(JSON.parse(call.arguments), { city: "mock", unit: "C" });
    const rid = ridOf(call.call_id);
    const second = await gw.client.responses.create({
      model: "flash",
      input: [{ role: "user", content: "weather in Paris?" }, call, { type: "function_call_output", call_id: call.call_id, output: '{"temp":21}' }],
      tools: [fn],
      store: false,
    });
    assert.equal(second.output_text, "Hello from the Switchyard mock.");
    const contents = lastRequest().body!.contents as Array<{ parts: Array<Record<string, unknown>> }>;
    assert.equal(contents[1].parts[0].thoughtSignature, signed("call")(rid));
    assert.deepEqual(contents[2].parts, [{ functionResponse: { name: "weather", response: { temp: 21 } } }]);
  });
});

describe("failing over from a gemini provider", () => {
  for (const stream of [false, true]) {
    test(`RESOURCE_EXHAUSTED and an error as the first event are retried elsewhere${stream ? ", streamed" : ""}`, async () => {
      const before = mock.requests.length;
      let text: string | null;
      if (stream) {
        text = "";
        for await (const chunk of await gw.client.chat.completions.create({ model: "overflow", messages: question, stream: true })) text += chunk.choices[0]?.delta.content ?? "";
      } else text = (await gw.client.chat.completions.create({ model: "overflow", messages: question })).choices[0].message.content;
      assert.equal(text, "Hello from the Switchyard mock.");
      assert.deepEqual(mock.requests.slice(before).map((r) => r.status), [429, 200, 200], "the quota, the error event (sent with a 200), the answer");
    });
  }
});

describe("embeddings through a gemini provider", () => {
  test("one input goes to embedContent; the SDK gets floats (through its default base64)", async () => {
    const r = await gw.client.embeddings.create({ model: "embed", input: "hello" });
    const req = lastRequest();
    assert.equal(req.path, "/v1beta/models/gemini-embedding-001:embedContent");
    assert.deepEqual(req.body, { content: { parts: [{ text: "hello" }] } });
    assert.equal(r.object, "list");
    assert.equal(r.data.length, 1);
    const v = r.data[0].embedding;
    assert.equal(v.length, 8);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, "the mock's unit vector, intact");
    const floats = await gw.client.embeddings.create({ model: "embed", input: "hello", encoding_format: "float" });
    assert.deepEqual(floats.data[0].embedding.map((x) => Math.fround(x)), v, "base64 and float answers agree");
  });

  test("several inputs go to batchEmbedContents, with dimensions as outputDimensionality, in order", async () => {
    const r = await gw.client.embeddings.create({ model: "embed", input: ["a", "b", "c"], dimensions: 16 });
    const req = lastRequest();
    assert.equal(req.path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    assert.deepEqual(req.body, {
      requests: ["a", "b", "c"].map((text) => ({ model: "models/gemini-embedding-001", content: { parts: [{ text }] }, outputDimensionality: 16 })),
    });
    assert.deepEqual(r.data.map((d) => [d.index, d.embedding.length]), [[0, 16], [1, 16], [2, 16]]);
    const single = await gw.client.embeddings.create({ model: "embed", input: "b", dimensions: 16 });
    assert.deepEqual(r.data[1].embedding, single.data[0].embedding, "each vector is its own input's");
  });
});
