/**
 * The internal chat contract every translation goes through (hub and spoke):
 * a front decodes its client's API into a ChatRequest, a provider codec
 * encodes that into its upstream's API, and the answer comes back as a
 * ChatResult or a sequence of StreamParts, which the front encodes again.
 * When the client's API and the upstream's are the same, none of this runs:
 * the bytes pass through.
 *
 * The request is OpenAI Chat Completions' shape, which most clients and
 * upstreams speak already, with a few fields for what it cannot say:
 * `reasoning` blocks on assistant messages (Anthropic's thinking, with the
 * signatures a round trip needs) and `cache_control` on content parts.
 */

export type Role = "system" | "developer" | "user" | "assistant" | "tool";

export interface TextPart {
  type: "text";
  text: string;
  /** Anthropic's prompt-cache marker, kept for an upstream that understands it. */
  cache_control?: { type: string; ttl?: string };
}

export interface ImagePart {
  type: "image_url";
  /** An http(s) URL or a data: URL (base64). */
  image_url: { url: string; detail?: string };
  cache_control?: { type: string; ttl?: string };
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A reasoning (thinking) block as the upstream gave it; `signature` / `redacted` make it replayable. */
export interface ReasoningBlock {
  text: string;
  /** Anthropic's signature over the block: required when the block is sent back. */
  signature?: string;
  /** An encrypted block whose text the upstream withheld (Anthropic's redacted_thinking). */
  redacted?: string;
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  /** assistant: the tool calls it made. */
  tool_calls?: ToolCall[];
  /** tool: which call this answers. */
  tool_call_id?: string;
  /** assistant: reasoning that preceded the answer, for upstreams that need it back. */
  reasoning?: ReasoningBlock[];
  refusal?: string | null;
  [extra: string]: unknown;
}

export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
  cache_control?: { type: string; ttl?: string };
}

export type ToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  /** OpenAI's effort levels; mapped to a thinking budget where the upstream takes one. */
  reasoning_effort?: "minimal" | "low" | "medium" | "high";
  response_format?: { type: string; json_schema?: unknown };
  user?: string;
  seed?: number;
  [extra: string]: unknown;
}

/**
 * Why generation stopped. OpenAI's finish reasons plus the two that others
 * tell apart and a front may need (`stop_sequence`, `refusal`).
 */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "stop_sequence" | "refusal";

/** Token counts, as the upstream reported them. Input includes cached tokens. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the upstream's prompt cache. */
  cachedInputTokens?: number;
  /** Input tokens written to the upstream's prompt cache. */
  cacheWriteTokens?: number;
  /** Output tokens spent on reasoning (included in outputTokens). */
  reasoningTokens?: number;
}

/** A whole (non-streamed) answer. */
export interface ChatResult {
  id: string;
  /** The model the upstream says answered. */
  model: string;
  text: string;
  reasoning: ReasoningBlock[];
  toolCalls: ToolCall[];
  refusal?: string;
  finish: FinishReason;
  usage?: Usage;
  /** The stop sequence that ended it, when the upstream says. */
  stopSequence?: string;
}

/**
 * One step of a streamed answer. Tool calls are numbered by `index` in the
 * order they start; their arguments arrive as JSON text in pieces. A
 * decoder emits `finish` once, then `usage` when known (possibly in the same
 * batch).
 */
export type StreamPart =
  | { type: "start"; id?: string; model?: string }
  | { type: "text"; delta: string }
  | { type: "reasoning"; delta: string }
  | { type: "reasoning-signature"; signature: string }
  | { type: "reasoning-redacted"; data: string }
  | { type: "tool-call-start"; index: number; id: string; name: string }
  | { type: "tool-call-delta"; index: number; arguments: string }
  | { type: "finish"; reason: FinishReason; stopSequence?: string }
  | { type: "usage"; usage: Usage };
