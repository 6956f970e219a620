/**
 * The mock's Chat Completions wire with tools and reasoning, checked with
 * the official SDK and in its raw chunks: what translation tests rely on.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { argumentPieces, argumentsFor, startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";

const WEATHER: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "weather",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string" },
        days: { type: "integer" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        detail: { type: "boolean" },
      },
      required: ["city", "days", "unit"],
    },
  },
};
const TIME: OpenAI.ChatCompletionTool = {
  type: "function",
  function: { name: "time", parameters: { type: "object", properties: { tz: { type: "string" }, at: { type: "object", properties: { h: { type: "number" } }, required: ["h"] } }, required: ["tz", "at"] } },
};
const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "weather in Paris?" }];

let mock: MockUpstream;
let client: OpenAI;
before(async () => {
  mock = await startMockUpstream();
  client = new OpenAI({ baseURL: mock.url, apiKey: "x", maxRetries: 0 });
});
after(() => mock.close());

/** The raw chunks of a stream, parsed. */
async function rawChunks(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<any[]> {
  const res = await fetch(`${mock.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ ...body, stream: true }) });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: ") && e !== "data: [DONE]")
    .map((e) => JSON.parse(e.slice(6)));
}

test("arguments are built from the schema's required properties", () => {
  assert.deepEqual(argumentsFor(WEATHER.function.parameters), { city: "x", days: 1, unit: "celsius" });
  assert.deepEqual(argumentsFor(TIME.function.parameters), { tz: "x", at: { h: 1 } });
  assert.deepEqual(argumentsFor({ type: "object", properties: { a: { type: ["null", "array"] }, b: {} }, required: ["a", "b", 3] }), { a: [], b: "x" });
  assert.deepEqual(argumentsFor(undefined), {});
  assert.deepEqual(argumentPieces('{"city":"x"}'), ['{"c', 'ity', '":"', 'x"}']);
});

describe("tool calls", () => {
  test("x-mock-tool picks the tool by name and x-mock-tool-args gives its arguments; bad arguments are a 400", async () => {
    const res = await client.chat.completions.create(
      { model: "m", messages: ask, tools: [WEATHER, TIME] },
      { headers: { "x-mock-tool": "time", "x-mock-tool-args": '{"tz":"UTC"}' } },
    );
    const call = res.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, "time");
    assert.equal(call.function.arguments, '{"tz":"UTC"}');
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: ask, tools: [WEATHER] }, { headers: { "x-mock-tool-args": "[1" } }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /x-mock-tool-args/.test(e.message),
    );
  });

  test("whole: a call to the first tool, content null, finish_reason tool_calls", async () => {
    const res = await client.chat.completions.create({ model: "m", messages: ask, tools: [WEATHER, TIME] });
    const choice = res.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    const calls = choice.message.tool_calls!;
    assert.equal(calls.length, 1);
    assert.equal(calls[0].type, "function");
    assert.match(calls[0].id, /^call_/);
    assert.equal((calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.name, "weather");
    assert.deepEqual(JSON.parse((calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments), { city: "x", days: 1, unit: "celsius" });
    assert.ok(res.usage!.completion_tokens > 0);
  });

  test("tool_choice names the tool; x-mock-tool-calls: 2 makes two parallel calls; parallel_tool_calls: false makes one", async () => {
    const named = await client.chat.completions.create({ model: "m", messages: ask, tools: [WEATHER, TIME], tool_choice: { type: "function", function: { name: "time" } } });
    assert.deepEqual(named.choices[0].message.tool_calls!.map((c) => (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name), ["time"]);
    const two = await client.chat.completions.create({ model: "m", messages: ask, tools: [WEATHER, TIME] }, { headers: { "x-mock-tool-calls": "2" } });
    const calls = two.choices[0].message.tool_calls! as OpenAI.ChatCompletionMessageFunctionToolCall[];
    assert.deepEqual(calls.map((c) => c.function.name), ["weather", "time"]);
    assert.notEqual(calls[0].id, calls[1].id);
    const one = await client.chat.completions.create({ model: "m", messages: ask, tools: [WEATHER], parallel_tool_calls: false }, { headers: { "x-mock-tool-calls": "2" } });
    assert.equal(one.choices[0].message.tool_calls!.length, 1);
    const none = await client.chat.completions.create({ model: "m", messages: ask, tools: [WEATHER], tool_choice: "none" });
    assert.match(none.choices[0].message.content ?? "", /^Hello from the Switchyard mock\./);
  });

  test("streamed as OpenAI streams them: id and name first, arguments in several pieces, usage last", async () => {
    const chunks = await rawChunks({ model: "m", messages: ask, tools: [WEATHER, TIME], stream_options: { include_usage: true } }, { "x-mock-tool-calls": "2" });
    const deltas = chunks.filter((c) => c.choices.length > 0).map((c) => c.choices[0].delta);
    assert.equal(deltas[0].role, "assistant");
    const starts = deltas.flatMap((d) => d.tool_calls ?? []).filter((t: any) => t.id !== undefined);
    assert.deepEqual(starts.map((t: any) => [t.index, t.function.name, t.function.arguments]), [[0, "weather", ""], [1, "time", ""]]);
    for (const index of [0, 1]) {
      const pieces = deltas.flatMap((d) => d.tool_calls ?? []).filter((t: any) => t.index === index && t.id === undefined).map((t: any) => t.function.arguments);
      assert.ok(pieces.length >= 2, "the arguments come in several pieces");
      assert.ok(pieces.every((p: any) => typeof p === "string"));
      JSON.parse(pieces.join(""));
    }
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.completion_tokens > 0);
    assert.equal(chunks.at(-2).choices[0].finish_reason, "tool_calls");
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
  });

  test("the SDK's streaming runner assembles the streamed calls", async () => {
    const runner = client.chat.completions.stream({ model: "m", messages: ask, tools: [WEATHER, TIME] }, { headers: { "x-mock-tool-calls": "2" } });
    const final = await runner.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    assert.deepEqual(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]), [
      ["weather", { city: "x", days: 1, unit: "celsius" }],
      ["time", { tz: "x", at: { h: 1 } }],
    ]);
    assert.equal(final.choices[0].finish_reason, "tool_calls");
  });

  test("after a tool result, the answer is text quoting it", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...ask,
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":21,"sky":"clear"}' },
    ];
    const whole = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER] });
    assert.equal(whole.choices[0].message.content, 'The tool returned: {"temp":21,"sky":"clear"}');
    assert.equal(whole.choices[0].finish_reason, "stop");
    const parts = await client.chat.completions.create({ model: "m", messages: [...messages.slice(0, 2), { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "sunny" }] }], tools: [WEATHER] });
    assert.equal(parts.choices[0].message.content, "The tool returned: sunny");
    const chunks = await rawChunks({ model: "m", messages, tools: [WEATHER] });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    assert.equal(text, 'The tool returned: {"temp":21,"sky":"clear"}');
    assert.ok(chunks.filter((c) => c.choices[0]?.delta?.content).length > 1, "streamed in pieces");
  });

  test("what OpenAI would refuse is refused", async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${mock.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const badTool = await post({ model: "m", messages: ask, tools: [{ type: "function", function: {} }] });
    assert.equal(badTool.status, 400);
    assert.equal(((await badTool.json()) as any).error.param, "tools[0].function.name");
    const unknownChoice = await post({ model: "m", messages: ask, tools: [WEATHER], tool_choice: { type: "function", function: { name: "nope" } } });
    assert.equal(unknownChoice.status, 400);
    await unknownChoice.text();
    for (const [name, value] of [["x-mock-tool-calls", "0"], ["x-mock-tool-calls", "lots"], ["x-mock-reasoning", "maybe"]]) {
      const res = await post({ model: "m", messages: ask, tools: [WEATHER] }, { [name]: value });
      assert.equal(res.status, 400, `${name}: ${value}`);
      assert.equal(((await res.json()) as any).error.code, "mock_bad_header");
    }
  });
});

describe("reasoning (x-mock-reasoning: 1)", () => {
  test("whole: reasoning_content beside the content, counted in usage", async () => {
    const res = await client.chat.completions.create({ model: "m", messages: ask }, { headers: { "x-mock-reasoning": "1" } });
    const message = res.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    assert.equal(message.reasoning_content, "Let me think about this step by step.");
    assert.match(message.content ?? "", /^Hello from the Switchyard mock\./);
    assert.equal(res.usage!.completion_tokens_details?.reasoning_tokens, 8);
    const plain = await client.chat.completions.create({ model: "m", messages: ask });
    assert.equal("reasoning_content" in plain.choices[0].message, false);
  });

  test("streamed: reasoning deltas first, then the text; with tools, then the calls", async () => {
    const chunks = await rawChunks({ model: "m", messages: ask }, { "x-mock-reasoning": "1" });
    const deltas = chunks.map((c) => c.choices[0].delta);
    const firstText = deltas.findIndex((d) => d.content);
    const reasoning = deltas.filter((d) => d.reasoning_content !== undefined);
    assert.equal(reasoning.map((d) => d.reasoning_content).join(""), "Let me think about this step by step.");
    assert.ok(deltas.findLastIndex((d) => d.reasoning_content !== undefined) < firstText);
    const withTools = await rawChunks({ model: "m", messages: ask, tools: [WEATHER] }, { "x-mock-reasoning": "1" });
    const order = withTools.map((c) => c.choices[0].delta).flatMap((d) => (d.reasoning_content ? ["r"] : d.tool_calls ? ["t"] : []));
    assert.equal(order.join("").replace(/r+/, "R").replace(/t+/, "T"), "RT");
  });
});
