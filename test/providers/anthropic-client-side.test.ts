/** The anthropic codec's client side (for a Messages front): requests decoded, answers and streams encoded as Anthropic writes them. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { anthropic } from "../../src/codecs/anthropic/index.ts";
import { sseEvent, SseEvents } from "../../src/codecs/sse-events.ts";
import type { AnswerContext } from "../../src/codecs/types.ts";
import type { ChatResult, StreamPart } from "../../src/protocol/chat.ts";
import { GatewayError } from "../../src/protocol/errors.ts";
import { anthropicAdapter } from "../../src/providers/anthropic/index.ts";
import { collect } from "../conformance/suite.ts";

const SIG = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/4mPsHGKjTo/jGaOR0nh6WoNnBD2LH2CJmsW1OqnXzE/UdeGZEH3xbs4dJaw==";
const ctx: AnswerContext = { model: "claude-via-gateway", id: "0123abcdef", created: 1_700_000_000, includeUsage: true };

const roundTrip = (body: Record<string, unknown>) => anthropic.encodeRequest(anthropic.decodeRequest(structuredClone(body)), String(body.model));

describe("decodeRequest: a Messages request to the internal one and back keeps its meaning", () => {
  test("a conversation with thinking, tool use, tool results, images and cache markers", () => {
    const original = {
      model: "claude-sonnet-4-5",
      max_tokens: 16000,
      system: [{ type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture, and the weather in Paris?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" }, cache_control: { type: "ephemeral" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "A cat; then a tool call.", signature: SIG },
            { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
            { type: "text", text: "A cat. Checking the weather." },
            { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { city: "Paris", units: ["c"] } },
            { type: "tool_use", id: "toolu_01B", name: "get_time", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "18°C" },
            { type: "tool_result", tool_use_id: "toolu_01B", content: [{ type: "text", text: "12:00" }, { type: "image", source: { type: "url", url: "https://example.com/clock.png" } }] },
            { type: "text", text: "Thanks. Tomorrow?" },
          ],
        },
      ],
      tools: [
        { name: "get_weather", description: "Weather of a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
        { name: "get_time", input_schema: { type: "object", properties: {} }, cache_control: { type: "ephemeral" } },
      ],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      thinking: { type: "enabled", budget_tokens: 8192 },
      stop_sequences: ["\n\nHuman:"],
      metadata: { user_id: "user-7" },
      stream: true,
    };
    assert.deepEqual(roundTrip(original), original);
  });

  test("a system string, sampling settings and named tool choice", () => {
    const original = {
      model: "claude-haiku-4-5",
      max_tokens: 512,
      system: "Be brief.",
      messages: [{ role: "user", content: "hi" }],
      temperature: 0.3,
      top_p: 0.8,
      tools: [{ name: "f", input_schema: { type: "object" } }],
      tool_choice: { type: "tool", name: "f" },
    };
    const { system, ...rest } = original;
    assert.deepEqual(roundTrip(original), { ...rest, system: [{ type: "text", text: system }] });
  });

  test("tool results become tool messages in order, before the user's own text; a stream asks for usage", () => {
    const req = anthropic.decodeRequest({
      model: "m",
      max_tokens: 10,
      stream: true,
      top_k: 5,
      messages: [
        { role: "user", content: [{ type: "text", text: "before" }, { type: "tool_result", tool_use_id: "toolu_1", content: "r1", is_error: true }, { type: "tool_result", tool_use_id: "toolu_2" }] },
      ],
      tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }, { type: "custom", name: "mine", input_schema: { type: "object" } }],
    });
    assert.deepEqual(req.messages, [
      { role: "tool", tool_call_id: "toolu_1", content: "r1" },
      { role: "tool", tool_call_id: "toolu_2", content: "" },
      { role: "user", content: "before" },
    ]);
    assert.deepEqual(req.stream_options, { include_usage: true });
    assert.equal(req.top_k, undefined);
    assert.deepEqual(
      req.tools?.map((t) => t.function.name),
      ["mine"],
      "server tools exist on Anthropic alone",
    );
  });

  test("thinking budgets map to the nearest effort at or above them", () => {
    const effort = (budget_tokens: number) => anthropic.decodeRequest({ model: "m", max_tokens: 64000, messages: [{ role: "user", content: "x" }], thinking: { type: "enabled", budget_tokens } }).reasoning_effort;
    assert.deepEqual([1024, 2000, 2048, 5000, 8192, 31999].map(effort), ["minimal", "low", "low", "medium", "medium", "high"]);
    assert.equal(anthropic.decodeRequest({ model: "m", messages: [], thinking: { type: "disabled" } }).reasoning_effort, undefined);
  });

  test("a malformed request is a 400 naming the field", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: "m", messages: "hi" }, "messages"],
      [{ model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].role"],
      [{ model: "m", messages: [{ role: "user", content: 42 }] }, "messages[0].content"],
      [{ model: "m", messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } }] }] }, "messages[0].content[0]"],
      [{ model: "m", messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "file_1" } }] }] }, "messages[0].content[0].source"],
      [{ model: "m", messages: [{ role: "assistant", content: [{ type: "tool_use", name: "f", input: {} }] }] }, "messages[0].content[0]"],
    ];
    for (const [body, param] of cases) {
      assert.throws(
        () => anthropic.decodeRequest(body),
        (e: unknown) => e instanceof GatewayError && e.code === "SY_ERR_BAD_REQUEST" && e.param === param,
        JSON.stringify(body),
      );
    }
  });
});

describe("encodeResponse", () => {
  test("content in Anthropic's order (thinking, text, tool_use), a msg_ id, stop_reason and usage split like Anthropic's", () => {
    const result: ChatResult = {
      id: "chatcmpl-abc",
      model: "gpt-4o",
      text: "Checking.",
      reasoning: [{ text: "hm", signature: SIG }, { text: "", redacted: "REDACTED" }],
      toolCalls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      finish: "tool_calls",
      usage: { inputTokens: 120, outputTokens: 30, cachedInputTokens: 100, cacheWriteTokens: 5 },
    };
    assert.deepEqual(anthropic.encodeResponse(result, ctx), {
      id: "msg_abc",
      type: "message",
      role: "assistant",
      model: "claude-via-gateway",
      content: [
        { type: "thinking", thinking: "hm", signature: SIG },
        { type: "redacted_thinking", data: "REDACTED" },
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 15, cache_creation_input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 30 },
    });
  });

  test("an Anthropic answer decoded and encoded again is the same answer", () => {
    const body = {
      id: "msg_01XFDUDYJgAACzvnptvVoYEL",
      type: "message",
      role: "assistant",
      model: "claude-via-gateway",
      content: [
        { type: "thinking", thinking: "Let me think.", signature: SIG },
        { type: "text", text: "Paris." },
        { type: "tool_use", id: "toolu_01", name: "f", input: { a: [1, { b: null }] } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 40, output_tokens: 20 },
    };
    assert.deepEqual(anthropic.encodeResponse(anthropic.decodeResponse(structuredClone(body)), ctx), body);
  });

  test("stop reasons", () => {
    const enc = (finish: ChatResult["finish"]) => anthropic.encodeResponse({ id: "", model: "", text: "x", reasoning: [], toolCalls: [], finish }, ctx).stop_reason;
    assert.deepEqual((["stop", "length", "tool_calls", "content_filter", "stop_sequence", "refusal"] as const).map(enc), ["end_turn", "max_tokens", "tool_use", "refusal", "stop_sequence", "refusal"]);
  });
});

/** Encodes parts and returns the events as [event name, data] pairs, checking each event's name equals its data's type. */
function encode(batches: StreamPart[][]): Array<Record<string, unknown>> {
  const enc = anthropic.streamEncoder!(ctx);
  const text = batches.map((b) => enc.encode(b)).join("") + enc.end();
  const events = new SseEvents().push(Buffer.from(text));
  return events.map((e) => {
    const data = JSON.parse(e.data) as Record<string, unknown>;
    assert.equal(e.event, data.type, "the event name is the data's type");
    return data;
  });
}

/**
 * The rules Anthropic's SDK relies on when it accumulates a stream:
 * message_start first, one block open at a time, indexes from 0 in order,
 * deltas of the block's own kind, message_delta then message_stop last.
 */
function assertWellFormed(events: Array<Record<string, unknown>>): void {
  assert.equal(events[0].type, "message_start");
  assert.equal(events.at(-2)?.type, "message_delta");
  assert.equal(events.at(-1)?.type, "message_stop");
  let open: { index: number; type: string } | undefined;
  let next = 0;
  for (const e of events.slice(1, -2)) {
    if (e.type === "content_block_start") {
      assert.equal(open, undefined, "a block starts only after the previous one stopped");
      assert.equal(e.index, next++, "block indexes count up from 0");
      open = { index: e.index as number, type: (e.content_block as { type: string }).type };
    } else if (e.type === "content_block_delta") {
      assert.equal(e.index, open?.index, "a delta belongs to the open block");
      const kind = (e.delta as { type: string }).type;
      const allowed: Record<string, string[]> = { text: ["text_delta"], thinking: ["thinking_delta", "signature_delta"], tool_use: ["input_json_delta"] };
      assert.ok(allowed[open!.type]?.includes(kind), `${kind} in a ${open!.type} block`);
    } else if (e.type === "content_block_stop") {
      assert.equal(e.index, open?.index);
      open = undefined;
    } else assert.fail(`unexpected ${String(e.type)} between message_start and message_delta`);
  }
  assert.equal(open, undefined, "every block is stopped");
}

describe("streamEncoder", () => {
  test("parts become Anthropic's event sequence, in order", () => {
    const events = encode([
      [{ type: "start", id: "msg_upstream1", model: "x" }],
      [{ type: "reasoning", delta: "Let me " }, { type: "reasoning", delta: "see." }, { type: "reasoning-signature", signature: SIG }],
      [{ type: "text", delta: "Calling." }],
      [{ type: "tool-call-start", index: 0, id: "toolu_01", name: "get_weather" }, { type: "tool-call-delta", index: 0, arguments: '{"city":' }],
      [{ type: "tool-call-delta", index: 0, arguments: '"Paris"}' }],
      [{ type: "finish", reason: "tool_calls" }, { type: "usage", usage: { inputTokens: 50, outputTokens: 20, cachedInputTokens: 30 } }],
    ]);
    assert.deepEqual(events, [
      {
        type: "message_start",
        message: {
          id: "msg_upstream1",
          type: "message",
          role: "assistant",
          model: "claude-via-gateway",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
        },
      },
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me " } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "see." } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: SIG } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Calling." } },
      { type: "content_block_stop", index: 1 },
      { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_01", name: "get_weather", input: {} } },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"city":' } },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '"Paris"}' } },
      { type: "content_block_stop", index: 2 },
      {
        type: "message_delta",
        delta: { stop_reason: "tool_use", stop_sequence: null },
        usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 30, output_tokens: 20 },
      },
      { type: "message_stop" },
    ]);
  });

  test("message_start waits for the first content, so an upstream failing before it can still fail over", () => {
    const enc = anthropic.streamEncoder!(ctx);
    assert.equal(enc.encode([{ type: "start", id: "chatcmpl-x" }]), "");
    assert.match(enc.encode([{ type: "text", delta: "a" }]), /^event: message_start\ndata: \{"type":"message_start","message":\{"id":"msg_x",/);
  });

  test("without an upstream id, the answer's fresh one gets the msg_ prefix", () => {
    const events = encode([[{ type: "text", delta: "a" }]]);
    assert.equal((events[0].message as { id: string }).id, "msg_0123abcdef");
    assert.equal(anthropic.encodeResponse!({ id: "", model: "", text: "a", reasoning: [], toolCalls: [], finish: "stop" }, ctx).id, "msg_0123abcdef");
  });

  test("a redacted block is opened and closed at once; a second thinking block starts after a signature", () => {
    const events = encode([
      [{ type: "reasoning", delta: "one" }, { type: "reasoning-signature", signature: "s1" }, { type: "reasoning", delta: "two" }, { type: "reasoning-signature", signature: "s2" }],
      [{ type: "reasoning-redacted", data: "R" }, { type: "text", delta: "ok" }, { type: "finish", reason: "stop" }],
    ]);
    assertWellFormed(events);
    const starts = events.filter((e) => e.type === "content_block_start").map((e) => (e.content_block as { type: string }).type);
    assert.deepEqual(starts, ["thinking", "thinking", "redacted_thinking", "text"]);
    assert.deepEqual(events.find((e) => e.type === "content_block_start" && (e.content_block as { type: string }).type === "redacted_thinking")?.content_block, { type: "redacted_thinking", data: "R" });
  });

  test("interleaved arguments of parallel calls (as some OpenAI-compatible upstreams send them) still come out one block at a time, complete", () => {
    const parts: StreamPart[] = [
      { type: "tool-call-start", index: 0, id: "call_a", name: "weather" },
      { type: "tool-call-delta", index: 0, arguments: '{"ci' },
      { type: "tool-call-start", index: 1, id: "call_b", name: "time" },
      { type: "tool-call-delta", index: 1, arguments: '{"tz":' },
      { type: "tool-call-delta", index: 0, arguments: 'ty":"Paris"}' },
      { type: "tool-call-delta", index: 1, arguments: '"CET"}' },
      { type: "tool-call-start", index: 2, id: "call_c", name: "now" },
      { type: "finish", reason: "tool_calls" },
    ];
    const events = encode(parts.map((p) => [p]));
    assertWellFormed(events);
    const text = events.map((e) => sseEvent(JSON.stringify(e), e.type as string)).join("");
    const back = collect(anthropic.streamDecoder!(anthropicAdapter.classifyStreamError).push(Buffer.from(text)));
    assert.deepEqual(back.toolCalls, [
      { id: "call_a", name: "weather", arguments: '{"city":"Paris"}' },
      { id: "call_b", name: "time", arguments: '{"tz":"CET"}' },
      { id: "call_c", name: "now", arguments: "{}" },
    ]);
    assert.equal(back.finish, "tool_calls");
  });

  test("an Anthropic stream decoded and encoded again decodes to the same answer", () => {
    const parts: StreamPart[] = [
      { type: "start", id: "msg_1", model: "claude" },
      { type: "reasoning", delta: "think é 👋" },
      { type: "reasoning-signature", signature: SIG },
      { type: "text", delta: "Hello" },
      { type: "tool-call-start", index: 0, id: "toolu_1", name: "f" },
      { type: "tool-call-delta", index: 0, arguments: '{"x":1}' },
      { type: "tool-call-start", index: 1, id: "toolu_2", name: "g" },
      { type: "tool-call-delta", index: 1, arguments: '{"y":2}' },
      { type: "finish", reason: "tool_calls" },
      { type: "usage", usage: { inputTokens: 9, outputTokens: 4 } },
    ];
    const enc = anthropic.streamEncoder!(ctx);
    const text = enc.encode(parts) + enc.end();
    const dec = anthropic.streamDecoder!(anthropicAdapter.classifyStreamError);
    const back = [...dec.push(Buffer.from(text)), ...dec.end()];
    assert.deepEqual(collect(back), collect(parts));
  });

  test("an empty answer is still a whole message", () => {
    const events = encode([[{ type: "finish", reason: "length" }]]);
    assert.deepEqual(
      events.map((e) => e.type),
      ["message_start", "message_delta", "message_stop"],
    );
    assert.deepEqual((events[1].delta as Record<string, unknown>).stop_reason, "max_tokens");
  });
});

describe("usage of an Anthropic answer passing through", () => {
  const stream =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":100,"cache_creation_input_tokens":0,"output_tokens":1}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi é"}}\n\n' +
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}\n\n' +
    'event: message_stop\ndata: {"type":"message_stop"}\n\n';

  test("the tap reads message_start's input and message_delta's output, however the bytes are split", () => {
    const bytes = Buffer.from(stream);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const tap = anthropic.usageTap!();
      tap.push(bytes.subarray(0, cut));
      tap.push(bytes.subarray(cut));
      assert.deepEqual(tap.usage(), { inputTokens: 125, outputTokens: 15, cachedInputTokens: 100 }, `cut at ${cut}`);
    }
  });

  test("a whole answer's usage, cache reads and writes counted in the input", () => {
    assert.deepEqual(anthropic.usageOf!({ usage: { input_tokens: 3, cache_creation_input_tokens: 10, cache_read_input_tokens: 0, output_tokens: 4 } }), {
      inputTokens: 13,
      outputTokens: 4,
      cacheWriteTokens: 10,
    });
    assert.equal(anthropic.usageOf!({ type: "message" }), undefined);
  });
});
