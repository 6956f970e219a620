/**
 * End to end: the official OpenAI SDK against the gateway, with an
 * `anthropic` provider on the mock's Messages API behind it. The SDK's own
 * parsed results are checked against what the upstream sent.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import OpenAI from "openai";
import { toolUseIdOf } from "../../src/mock/anthropic-wire.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

const KEY = "sk-ant-test-key";
const WEATHER: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] },
  },
};
const TIME: OpenAI.ChatCompletionTool = {
  type: "function",
  function: { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string", enum: ["CET", "UTC"] } }, required: ["tz"] } },
};
const ASK: OpenAI.ChatCompletionMessageParam = { role: "user", content: "Weather and time in Paris?" };
/** The mock's counts for ASK answered with both calls: input a token per 4 characters, output 10 a call plus its input's. */
const USAGE = { prompt_tokens: 7, completion_tokens: 18 + 13, total_tokens: 38 };

/** OpenAI-compatible fields the gateway adds for reasoning, which the SDK's types do not name. */
type WithThinking = OpenAI.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: Array<{ type: string; thinking: string; signature: string }> };

let mock: MockUpstream;
let gw: TestGateway;
before(async () => {
  mock = await startMockUpstream({ apiKey: KEY });
  gw = await startGateway({
    providers: {
      claude: { type: "anthropic", base_url: mock.url, api_key: KEY },
      claude2: { type: "anthropic", base_url: mock.url, api_key: KEY, headers: { "x-mock-tool-calls": "2" } },
    },
    models: {
      claude: { targets: ["claude/claude-sonnet-4-5"] },
      parallel: { targets: ["claude2/claude-sonnet-4-5"] },
      retried: { targets: ["claude/claude-haiku-4-5"], retry: { attempts: 2, base_delay: "1ms", max_delay: "1ms" } },
    },
  });
});
after(async () => {
  await gw.close();
  await mock.close();
});
beforeEach(() => mock.reset());

const upstream = () => mock.requests.at(-1)!;

describe("tool use through an anthropic provider", () => {
  test("whole: the SDK's tool calls carry the upstream's toolu_ ids, names and complete arguments; the call went to /v1/messages as Anthropic takes it", async () => {
    const res = await gw.client.chat.completions.create({ model: "parallel", messages: [ASK], tools: [WEATHER, TIME] });
    const choice = res.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    assert.match(res.id, /^msg_/, "the upstream's message id");
    const calls = choice.message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    assert.deepEqual(
      calls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)]),
      [
        [toolUseIdOf(res.id, 0), "function", "get_weather", { city: "mock-city", days: 1 }],
        [toolUseIdOf(res.id, 1), "function", "get_time", { tz: "CET" }],
      ],
    );
    assert.deepEqual(res.usage, USAGE);

    const sent = upstream();
    assert.equal(sent.path, "/v1/messages");
    assert.equal(sent.headers["x-api-key"], KEY);
    assert.equal(sent.headers["anthropic-version"], "2023-06-01");
    assert.equal(sent.headers.authorization, undefined);
    assert.equal(sent.body?.model, "claude-sonnet-4-5");
    assert.equal(sent.body?.max_tokens, 4096);
    assert.deepEqual(sent.body?.tools, [
      { name: "get_weather", description: "Weather of a city", input_schema: WEATHER.function.parameters },
      { name: "get_time", input_schema: (TIME as OpenAI.ChatCompletionFunctionTool).function.parameters },
    ]);
  });

  test("the results sent back reach the upstream as one user turn of tool_result blocks with the same ids, and the answer is text", async () => {
    const first = await gw.client.chat.completions.create({ model: "parallel", messages: [ASK], tools: [WEATHER, TIME] });
    const message = first.choices[0].message;
    const calls = message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    const second = await gw.client.chat.completions.create({
      model: "parallel",
      tools: [WEATHER, TIME],
      messages: [ASK, message, { role: "tool", tool_call_id: calls[0].id, content: "18°C" }, { role: "tool", tool_call_id: calls[1].id, content: "14:05" }],
    });
    assert.equal(second.choices[0].finish_reason, "stop");
    assert.match(second.choices[0].message.content ?? "", /^Hello from the Switchyard mock\./);
    const sent = upstream().body!.messages as Array<{ role: string; content: unknown }>;
    assert.deepEqual(sent.slice(1), [
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: calls[0].id, name: "get_weather", input: { city: "mock-city", days: 1 } },
          { type: "tool_use", id: calls[1].id, name: "get_time", input: { tz: "CET" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: calls[0].id, content: "18°C" },
          { type: "tool_result", tool_use_id: calls[1].id, content: "14:05" },
        ],
      },
    ]);
  });

  test("streamed: the SDK's accumulated completion has the same ids, indexes and complete JSON arguments, and usage when asked", async () => {
    const stream = gw.client.chat.completions.stream({ model: "parallel", messages: [ASK], tools: [WEATHER, TIME], stream_options: { include_usage: true } });
    const indexes: number[] = [];
    stream.on("chunk", (chunk) => {
      for (const t of chunk.choices[0]?.delta.tool_calls ?? []) if (t.id !== undefined) indexes.push(t.index);
    });
    const done = await stream.finalChatCompletion();
    assert.equal(done.choices[0].finish_reason, "tool_calls");
    assert.match(done.id, /^msg_/);
    const calls = done.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    assert.deepEqual(
      calls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
      [
        [toolUseIdOf(done.id, 0), "get_weather", { city: "mock-city", days: 1 }],
        [toolUseIdOf(done.id, 1), "get_time", { tz: "CET" }],
      ],
    );
    assert.deepEqual(indexes, [0, 1], "each call is announced once, at its own index, in order");
    assert.deepEqual(done.usage, USAGE, "usage came in the stream: input from message_start, output from message_delta");
    assert.equal(upstream().body?.stream, true);
    assert.equal(upstream().body?.stream_options, undefined, "OpenAI's stream_options are not forwarded");
  });

  test("streamed without include_usage: no usage chunk", async () => {
    const stream = await gw.client.chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }], stream: true, max_tokens: 3 });
    let text = "";
    let usage: unknown;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage ??= chunk.usage;
    }
    assert.equal(text, "Hello from the");
    assert.equal(finish, "length");
    assert.equal(usage ?? undefined, undefined);
  });

  test("tool call arguments that are not JSON are a 400 naming the field, and nothing reaches the upstream", async () => {
    await assert.rejects(
      gw.client.chat.completions.create({
        model: "claude",
        messages: [ASK, { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{city: Paris" } }] }],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /not valid JSON/.test(err.message) && (err.error as { param?: string })?.param === "messages[1].tool_calls[0].function.arguments",
    );
    assert.equal(mock.requests.length, 0);
  });
});

describe("thinking through an anthropic provider", () => {
  test("whole: reasoning comes with its signature, and sent back it reaches the upstream intact, first in the assistant turn", async () => {
    const first = await gw.client.chat.completions.create({ model: "claude", messages: [ASK], tools: [WEATHER], reasoning_effort: "low" });
    assert.deepEqual(upstream().body?.thinking, { type: "enabled", budget_tokens: 2048 });
    const message = first.choices[0].message as WithThinking;
    assert.ok(message.reasoning_content);
    const block = message.thinking_blocks?.[0];
    assert.ok(block?.signature, "the signature is given to the client");
    assert.equal(block.thinking, message.reasoning_content);

    const calls = message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    const second = await gw.client.chat.completions.create({
      model: "claude",
      tools: [WEATHER],
      reasoning_effort: "low",
      messages: [ASK, message, { role: "tool", tool_call_id: calls[0].id, content: "18°C" }],
    });
    assert.equal(second.choices[0].finish_reason, "stop", "the upstream accepted the signature");
    const turn = (upstream().body!.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>)[1];
    assert.deepEqual(turn.content[0], { type: "thinking", thinking: block.thinking, signature: block.signature });
    assert.equal(turn.content[1].type, "tool_use");
  });

  test("streamed: reasoning deltas and the signature arrive in the stream, and sent back they reach the upstream intact", async () => {
    const stream = await gw.client.chat.completions.create({ model: "claude", messages: [ASK], tools: [WEATHER], reasoning_effort: "minimal", stream: true });
    let reasoning = "";
    let signature = "";
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string; thinking_blocks?: Array<{ signature?: string }> }) | undefined;
      reasoning += delta?.reasoning_content ?? "";
      for (const b of delta?.thinking_blocks ?? []) signature += b.signature ?? "";
      for (const t of delta?.tool_calls ?? []) {
        if (t.id !== undefined) calls[t.index] = { id: t.id, name: t.function?.name ?? "", arguments: "" };
        calls[t.index].arguments += t.function?.arguments ?? "";
      }
    }
    assert.ok(reasoning.length > 0);
    assert.ok(signature.length > 20);
    assert.equal(calls.length, 1);

    const back = await gw.client.chat.completions.create({
      model: "claude",
      tools: [WEATHER],
      reasoning_effort: "minimal",
      messages: [
        ASK,
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: calls[0].id, type: "function", function: { name: calls[0].name, arguments: calls[0].arguments } }],
          thinking_blocks: [{ type: "thinking", thinking: reasoning, signature }],
        } as OpenAI.ChatCompletionAssistantMessageParam,
        { role: "tool", tool_call_id: calls[0].id, content: "18°C" },
      ],
    });
    assert.equal(back.choices[0].finish_reason, "stop");
    const turn = (upstream().body!.messages as Array<{ content: Array<Record<string, unknown>> }>)[1];
    assert.deepEqual(turn.content[0], { type: "thinking", thinking: reasoning, signature });
  });
});

describe("errors of an anthropic provider", () => {
  test("an overloaded_error as the stream's first event fails over before the client sees anything", async () => {
    mock.setFault("error-event", { times: 1 });
    const stream = await gw.client.chat.completions.create({ model: "retried", messages: [{ role: "user", content: "hi" }], stream: true, max_tokens: 2 });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from");
    assert.deepEqual(
      mock.requests.map((r) => r.status),
      [200, 200],
      "two attempts, the first one's stream opened with the error event",
    );
  });

  test("an overloaded_error that arrives with the first text, before anything reached the client, still fails over", async () => {
    // The mock writes the events before the fault and the error event in one piece.
    mock.setFault("error-event;after=5", { times: 1 });
    const stream = await gw.client.chat.completions.create({ model: "retried", messages: [{ role: "user", content: "hi" }], stream: true, max_tokens: 4 });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from the Switchyard", "one whole answer, none of the failed attempt's text");
    assert.equal(mock.requests.length, 2);
  });

  test("a 529 is retried; a refused key is the provider's fault: a 502 naming its credentials", async () => {
    mock.setFault("status=529", { times: 1 });
    const ok = await gw.client.chat.completions.create({ model: "retried", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    assert.equal(ok.choices[0].message.content, "Hello from");
    assert.deepEqual(
      mock.requests.map((r) => r.status),
      [529, 200],
    );

    mock.reset();
    mock.setFault("status=401", { times: 2 });
    await assert.rejects(
      gw.client.chat.completions.create({ model: "retried", messages: [{ role: "user", content: "hi" }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 502 && err.code === "SY_ERR_UPSTREAM_AUTH",
    );
    assert.ok(mock.requests.length >= 1 && mock.requests.length <= 2);
  });
});
