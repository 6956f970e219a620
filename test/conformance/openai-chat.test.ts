/** The OpenAI Chat Completions codec against fixtures in OpenAI's wire format. */
import { openaiChat } from "../../src/codecs/openai-chat/index.ts";
import { openaiAdapter } from "../../src/providers/openai/index.ts";
import { runConformance } from "./suite.ts";

const chunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;

const usageChunk = `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } } })}\n\n`;

runConformance("openai-chat", openaiChat, openaiAdapter.classifyStreamError, {
  requests: [
    {
      name: "the internal shape passes, without reasoning blocks and cache_control",
      model: "gpt-4o",
      request: {
        model: "chat",
        messages: [
          { role: "system", content: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }] },
          { role: "assistant", content: "ok", reasoning: [{ text: "hm", signature: "sig" }] },
          { role: "user", content: "hi" },
        ],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } }, cache_control: { type: "ephemeral" } }],
      },
      expect: {
        model: "gpt-4o",
        messages: [{ role: "system", content: [{ type: "text", text: "be brief" }] }, { role: "assistant", content: "ok" }, { role: "user", content: "hi" }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      },
    },
  ],
  responses: [
    {
      name: "text",
      body: {
        id: "chatcmpl-1",
        object: "chat.completion",
        model: "gpt-4o",
        choices: [{ index: 0, message: { role: "assistant", content: "Hello é 👋" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12, completion_tokens_details: { reasoning_tokens: 1 } },
      },
      expect: { text: "Hello é 👋", finish: "stop", usage: { inputTokens: 9, outputTokens: 3, reasoningTokens: 1 } },
    },
    {
      name: "parallel tool calls",
      body: {
        id: "chatcmpl-2",
        model: "gpt-4o",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
                { id: "call_b", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
      },
      expect: { toolCalls: [{ id: "call_a", name: "weather", arguments: { city: "Paris" } }, { id: "call_b", name: "weather", arguments: { city: "Oslo" } }], finish: "tool_calls" },
    },
    {
      name: "reasoning_content (DeepSeek, vLLM)",
      body: { id: "x", model: "deepseek-reasoner", choices: [{ index: 0, message: { role: "assistant", content: "42", reasoning_content: "think" }, finish_reason: "stop" }] },
      expect: { text: "42", reasoning: "think" },
    },
  ],
  streams: [
    {
      name: "text with a usage-only final chunk",
      sse: chunk({ role: "assistant", content: "" }) + chunk({ content: "Hel" }) + chunk({ content: "lo é 👋" }) + chunk({}, "stop") + usageChunk + "data: [DONE]\n\n",
      expect: { text: "Hello é 👋", finish: "stop", usage: { inputTokens: 12, outputTokens: 5, cachedInputTokens: 4 } },
    },
    {
      name: "parallel tool calls with arguments in pieces",
      sse:
        chunk({ role: "assistant", tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "weather", arguments: "" } }] }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }) +
        chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "time", arguments: '{"tz":' } }] }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }) +
        chunk({ tool_calls: [{ index: 1, function: { arguments: '"CET"}' } }] }) +
        chunk({}, "tool_calls") +
        "data: [DONE]\n\n",
      expect: { toolCalls: [{ id: "call_a", name: "weather", arguments: { city: "Paris" } }, { id: "call_b", name: "time", arguments: { tz: "CET" } }], finish: "tool_calls" },
    },
    {
      name: "reasoning then text, CRLF line endings",
      sse: (chunk({ reasoning_content: "let me see" }) + chunk({ content: "yes" }) + chunk({}, "stop") + "data: [DONE]\n\n").replaceAll("\n", "\r\n"),
      expect: { reasoning: "let me see", text: "yes", finish: "stop" },
    },
  ],
  streamErrors: [
    { name: "a refused key in the first event", sse: `data: ${JSON.stringify({ error: { message: "bad key", type: "invalid_request_error", code: "invalid_api_key" } })}\n\n`, status: 502, retryable: true },
    { name: "an overload mid-stream", sse: chunk({ content: "a" }) + `data: ${JSON.stringify({ error: { message: "busy", type: "server_error" } })}\n\n`, status: 500, retryable: true },
  ],
  truncated: [chunk({ content: "cut" }), chunk({ content: "cut" }) + 'data: {"id":"chatcmpl-1","choi'],
});
