/** The Anthropic Messages codec against fixtures in Anthropic's wire format (from its API reference: messages, streaming, errors). */
import { anthropic } from "../../src/codecs/anthropic/index.ts";
import { anthropicAdapter } from "../../src/providers/anthropic/index.ts";
import { runConformance } from "./suite.ts";

/** One SSE event as Anthropic writes it: the event name, and the same name as the data's type. */
const ev = (type: string, body: Record<string, unknown> = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;

const start = (usage: Record<string, number> = { input_tokens: 25, output_tokens: 1 }) =>
  ev("message_start", {
    message: { id: "msg_01XFDUDYJgAACzvnptvVoYEL", type: "message", role: "assistant", content: [], model: "claude-sonnet-4-5", stop_reason: null, stop_sequence: null, usage },
  });
const blockStart = (index: number, content_block: Record<string, unknown>) => ev("content_block_start", { index, content_block });
const delta = (index: number, d: Record<string, unknown>) => ev("content_block_delta", { index, delta: d });
const blockStop = (index: number) => ev("content_block_stop", { index });
const messageDelta = (stop_reason: string, usage: Record<string, number> = { output_tokens: 15 }, stop_sequence: string | null = null) =>
  ev("message_delta", { delta: { stop_reason, stop_sequence }, usage });
const stop = ev("message_stop");
const ping = ev("ping");

const SIG = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/4mPsHGKjTo/jGaOR0nh6WoNnBD2LH2CJmsW1OqnXzE/UdeGZEH3xbs4dJaw==";
const REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj2pTqGzpbk=";

runConformance("anthropic", anthropic, anthropicAdapter.classifyStreamError, {
  requests: [
    {
      name: "system and developer messages become system blocks with their cache_control; max_tokens defaults",
      model: "claude-sonnet-4-5",
      request: {
        model: "chat",
        messages: [
          { role: "system", content: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }] },
          { role: "developer", content: "Answer in French." },
          { role: "user", content: "hi" },
        ],
      },
      expect: {
        model: "claude-sonnet-4-5",
        system: [
          { type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } },
          { type: "text", text: "Answer in French." },
        ],
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 4096,
      },
    },
    {
      name: "images: data: URLs as base64 sources, http URLs as url sources",
      model: "claude-sonnet-4-5",
      request: {
        model: "chat",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.jpg" }, cache_control: { type: "ephemeral" } },
            ],
          },
        ],
      },
      expect: {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these?" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" }, cache_control: { type: "ephemeral" } },
            ],
          },
        ],
      },
    },
    {
      name: "tools, tool_choice and parallel_tool_calls: false",
      model: "claude-sonnet-4-5",
      request: {
        model: "chat",
        messages: [{ role: "user", content: "weather?" }],
        tools: [
          {
            type: "function",
            function: { name: "get_weather", description: "Weather of a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
            cache_control: { type: "ephemeral" },
          },
        ],
        tool_choice: "required",
        parallel_tool_calls: false,
      },
      expect: {
        tools: [
          {
            name: "get_weather",
            description: "Weather of a city",
            input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            cache_control: { type: "ephemeral" },
          },
        ],
        tool_choice: { type: "any", disable_parallel_tool_use: true },
      },
    },
    {
      name: "a named tool choice, and none",
      model: "claude-sonnet-4-5",
      request: {
        model: "chat",
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "function", function: { name: "f" } }],
        tool_choice: { type: "function", function: { name: "f" } },
      },
      expect: { tools: [{ name: "f", input_schema: { type: "object", properties: {} } }], tool_choice: { type: "tool", name: "f" } },
    },
    {
      name: "a tool round trip: thinking first with its signature, tool_use with parsed input, results merged into one user turn with the text after them",
      model: "claude-sonnet-4-5",
      request: {
        model: "chat",
        messages: [
          { role: "user", content: "Weather in Paris and Oslo?" },
          {
            role: "assistant",
            content: "Checking both.",
            reasoning: [{ text: "Two cities, two calls.", signature: SIG }, { text: "", redacted: REDACTED }, { text: "unsigned, from another upstream" }],
            tool_calls: [
              { id: "toolu_01A", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "call.b:2", type: "function", function: { name: "get_weather", arguments: "" } },
            ],
          },
          { role: "tool", tool_call_id: "toolu_01A", content: "18°C" },
          { role: "tool", tool_call_id: "call.b:2", content: [{ type: "text", text: "9°C" }] },
          { role: "user", content: "And tomorrow?" },
        ],
        reasoning_effort: "low",
        max_completion_tokens: 3000,
        temperature: 0.2,
      },
      expect: {
        messages: [
          { role: "user", content: "Weather in Paris and Oslo?" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "Two cities, two calls.", signature: SIG },
              { type: "redacted_thinking", data: REDACTED },
              { type: "text", text: "Checking both." },
              { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { city: "Paris" } },
              { type: "tool_use", id: "call_b_2", name: "get_weather", input: {} },
            ],
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_01A", content: "18°C" },
              { type: "tool_result", tool_use_id: "call_b_2", content: "9°C" },
              { type: "text", text: "And tomorrow?" },
            ],
          },
        ],
        max_tokens: 3000,
        thinking: { type: "enabled", budget_tokens: 2048 },
        temperature: undefined,
      },
    },
    {
      name: "consecutive user messages merged; stop, top_p, user and stream mapped; fields without an equivalent dropped",
      model: "claude-haiku-4-5",
      request: {
        model: "chat",
        messages: [
          { role: "user", content: "one" },
          { role: "user", content: "two" },
        ],
        stop: "END",
        top_p: 0.9,
        temperature: 1.7,
        max_tokens: 100,
        user: "user-42",
        stream: true,
        stream_options: { include_usage: true },
        n: 1,
        seed: 7,
        response_format: { type: "json_object" },
        frequency_penalty: 0.5,
        logprobs: true,
      },
      expect: {
        messages: [{ role: "user", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] }],
        stop_sequences: ["END"],
        top_p: 0.9,
        temperature: 1,
        max_tokens: 100,
        metadata: { user_id: "user-42" },
        stream: true,
        stream_options: undefined,
        n: undefined,
        seed: undefined,
        response_format: undefined,
        frequency_penalty: undefined,
        logprobs: undefined,
      },
    },
    {
      name: "effort without a limit: the budget plus room for the answer",
      model: "claude-sonnet-4-5",
      request: { model: "chat", messages: [{ role: "user", content: "think" }], reasoning_effort: "medium" },
      expect: { thinking: { type: "enabled", budget_tokens: 8192 }, max_tokens: 8192 + 4096 },
    },
  ],
  responses: [
    {
      name: "text with usage, cache reads and writes counted in the input",
      body: {
        id: "msg_01XFDUDYJgAACzvnptvVoYEL",
        type: "message",
        role: "assistant",
        content: [{ type: "text", text: "Hello é 👋" }],
        model: "claude-sonnet-4-5",
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 6 },
      },
      expect: { text: "Hello é 👋", finish: "stop", usage: { inputTokens: 2112, outputTokens: 6, cachedInputTokens: 2000, cacheWriteTokens: 100 } },
    },
    {
      name: "parallel tool use with toolu_ ids",
      body: {
        id: "msg_2",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [
          { type: "text", text: "I'll check both." },
          { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_01B", name: "get_time", input: { tz: "CET" } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 400, output_tokens: 90 },
      },
      expect: {
        text: "I'll check both.",
        toolCalls: [
          { id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: { city: "Paris" } },
          { id: "toolu_01B", name: "get_time", arguments: { tz: "CET" } },
        ],
        finish: "tool_calls",
      },
    },
    {
      name: "thinking with its signature, redacted thinking, then text",
      body: {
        id: "msg_3",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [
          { type: "thinking", thinking: "Let me work it out.", signature: SIG },
          { type: "redacted_thinking", data: REDACTED },
          { type: "text", text: "42" },
        ],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 300 },
      },
      expect: { text: "42", reasoning: "Let me work it out.", signatures: [SIG], finish: "stop" },
    },
    {
      name: "stop reasons: max_tokens, stop_sequence, refusal",
      body: { id: "m", type: "message", role: "assistant", model: "c", content: [{ type: "text", text: "cut" }], stop_reason: "max_tokens", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } },
      expect: { text: "cut", finish: "length" },
    },
    {
      name: "a stop sequence",
      body: { id: "m", type: "message", role: "assistant", model: "c", content: [{ type: "text", text: "a" }], stop_reason: "stop_sequence", stop_sequence: "END", usage: { input_tokens: 1, output_tokens: 1 } },
      expect: { finish: "stop_sequence" },
    },
    {
      name: "a refusal",
      body: { id: "m", type: "message", role: "assistant", model: "c", content: [], stop_reason: "refusal", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } },
      expect: { text: "", finish: "refusal" },
    },
  ],
  streams: [
    {
      name: "text with ping, usage from message_start and message_delta",
      sse:
        start({ input_tokens: 25, cache_read_input_tokens: 5, cache_creation_input_tokens: 0, output_tokens: 1 }) +
        blockStart(0, { type: "text", text: "" }) +
        ping +
        delta(0, { type: "text_delta", text: "Hel" }) +
        delta(0, { type: "text_delta", text: "lo é 👋" }) +
        blockStop(0) +
        messageDelta("end_turn", { output_tokens: 15 }) +
        stop,
      expect: { text: "Hello é 👋", finish: "stop", usage: { inputTokens: 30, outputTokens: 15, cachedInputTokens: 5 } },
    },
    {
      name: "parallel tool use with input_json_delta pieces",
      sse:
        start() +
        blockStart(0, { type: "text", text: "" }) +
        delta(0, { type: "text_delta", text: "Checking." }) +
        blockStop(0) +
        blockStart(1, { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: {} }) +
        delta(1, { type: "input_json_delta", partial_json: "" }) +
        delta(1, { type: "input_json_delta", partial_json: '{"city": "Pa' }) +
        delta(1, { type: "input_json_delta", partial_json: 'ris"}' }) +
        blockStop(1) +
        blockStart(2, { type: "tool_use", id: "toolu_02", name: "get_time", input: {} }) +
        delta(2, { type: "input_json_delta", partial_json: '{"tz":"CET"}' }) +
        blockStop(2) +
        blockStart(3, { type: "tool_use", id: "toolu_03", name: "now", input: {} }) +
        blockStop(3) +
        messageDelta("tool_use", { output_tokens: 89 }) +
        stop,
      expect: {
        text: "Checking.",
        toolCalls: [
          { id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", arguments: { city: "Paris" } },
          { id: "toolu_02", name: "get_time", arguments: { tz: "CET" } },
          { id: "toolu_03", name: "now", arguments: {} },
        ],
        finish: "tool_calls",
        usage: { inputTokens: 25, outputTokens: 89 },
      },
    },
    {
      name: "thinking with signature_delta, redacted thinking, then text",
      sse:
        start() +
        blockStart(0, { type: "thinking", thinking: "", signature: "" }) +
        delta(0, { type: "thinking_delta", thinking: "Let me " }) +
        delta(0, { type: "thinking_delta", thinking: "think…" }) +
        delta(0, { type: "signature_delta", signature: SIG }) +
        blockStop(0) +
        blockStart(1, { type: "redacted_thinking", data: REDACTED }) +
        blockStop(1) +
        blockStart(2, { type: "text", text: "" }) +
        delta(2, { type: "text_delta", text: "Done." }) +
        blockStop(2) +
        messageDelta("end_turn", { output_tokens: 300 }) +
        stop,
      expect: { reasoning: "Let me think…", signatures: [SIG], text: "Done.", finish: "stop", usage: { outputTokens: 300 } },
    },
    {
      name: "a stop sequence, CRLF line endings, message_delta repeating the input counts",
      sse: (
        start({ input_tokens: 8, output_tokens: 1 }) +
        blockStart(0, { type: "text", text: "" }) +
        delta(0, { type: "text_delta", text: "one two" }) +
        blockStop(0) +
        messageDelta("stop_sequence", { input_tokens: 8, cache_creation_input_tokens: 4, output_tokens: 3 }, "three") +
        stop
      ).replaceAll("\n", "\r\n"),
      expect: { text: "one two", finish: "stop_sequence", usage: { inputTokens: 12, outputTokens: 3, cacheWriteTokens: 4 } },
    },
  ],
  streamErrors: [
    { name: "overloaded_error as the first event (529, retried)", sse: ev("error", { error: { type: "overloaded_error", message: "Overloaded" } }), status: 529, retryable: true },
    {
      name: "overloaded_error mid-stream",
      sse: start() + blockStart(0, { type: "text", text: "" }) + delta(0, { type: "text_delta", text: "a" }) + ev("error", { error: { type: "overloaded_error", message: "Overloaded" } }),
      status: 529,
      retryable: true,
    },
    { name: "rate_limit_error", sse: start() + ev("error", { error: { type: "rate_limit_error", message: "slow down" } }), status: 429, retryable: true },
    { name: "api_error", sse: start() + ev("error", { error: { type: "api_error", message: "Internal server error" } }), status: 500, retryable: true },
    { name: "authentication_error: the key's fault, another key or target", sse: ev("error", { error: { type: "authentication_error", message: "invalid x-api-key" } }), status: 502, retryable: true },
    { name: "permission_error: the key's fault, another key or target", sse: ev("error", { error: { type: "permission_error", message: "no access" } }), status: 502, retryable: true },
    { name: "invalid_request_error (not retried)", sse: ev("error", { error: { type: "invalid_request_error", message: "prompt is too long" } }), status: 400, retryable: false },
  ],
  truncated: [
    start() + blockStart(0, { type: "text", text: "" }) + delta(0, { type: "text_delta", text: "cut" }),
    start() + blockStart(0, { type: "text", text: "" }) + delta(0, { type: "text_delta", text: "cut" }) + blockStop(0),
    start() + blockStart(0, { type: "tool_use", id: "toolu_1", name: "f", input: {} }) + 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"a',
  ],
});
