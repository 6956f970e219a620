import type { StreamPart, Usage } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { SseEvents, sseEvent } from "../sse-events.ts";
import type { AnswerContext, ClassifyStreamError, StreamDecoder, StreamEncoder } from "../types.ts";
import { readFinish, writeFinish } from "./response.ts";
import { readUsage, writeUsage } from "./usage.ts";

interface Delta {
  content?: unknown;
  reasoning_content?: unknown;
  reasoning?: unknown;
  tool_calls?: Array<{ index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }>;
  thinking_blocks?: Array<{ signature?: unknown }>;
}

/**
 * An OpenAI chat stream as parts. Tool calls are renumbered in the order they
 * start (upstreams disagree on their own `index`), a call's id and name come
 * from its first delta, and a stream that ends without a finish reason or
 * `[DONE]` was cut off.
 */
export function streamDecoder(classify: ClassifyStreamError): StreamDecoder {
  const events = new SseEvents();
  let started = false;
  let finished = false;
  let done = false;
  /** upstream tool index → ours */
  const tools = new Map<number, number>();
  const decode = (data: string): StreamPart[] => {
    if (data === "[DONE]") {
      done = true;
      return [];
    }
    let chunk: { id?: unknown; model?: unknown; choices?: unknown; usage?: unknown; error?: unknown };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream sent a stream event that is not valid JSON", { retryable: true });
    }
    if (typeof chunk !== "object" || chunk === null) return [];
    if (chunk.error !== undefined) {
      throw classify(chunk) ?? new GatewayError("SY_ERR_UPSTREAM_STATUS", "upstream sent an error event", { retryable: true });
    }
    const parts: StreamPart[] = [];
    if (!started) {
      started = true;
      parts.push({ type: "start", id: typeof chunk.id === "string" ? chunk.id : undefined, model: typeof chunk.model === "string" ? chunk.model : undefined });
    }
    const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as { delta?: Delta; finish_reason?: unknown } | undefined) : undefined;
    const d = choice?.delta;
    if (d !== undefined && d !== null) {
      const reasoning = typeof d.reasoning_content === "string" ? d.reasoning_content : typeof d.reasoning === "string" ? d.reasoning : "";
      if (reasoning !== "") parts.push({ type: "reasoning", delta: reasoning });
      if (Array.isArray(d.thinking_blocks)) {
        for (const b of d.thinking_blocks) if (typeof b?.signature === "string" && b.signature !== "") parts.push({ type: "reasoning-signature", signature: b.signature });
      }
      if (typeof d.content === "string" && d.content !== "") parts.push({ type: "text", delta: d.content });
      if (Array.isArray(d.tool_calls)) {
        for (const t of d.tool_calls) {
          const upstreamIndex = typeof t.index === "number" ? t.index : tools.size;
          let index = tools.get(upstreamIndex);
          if (index === undefined) {
            index = tools.size;
            tools.set(upstreamIndex, index);
            const name = typeof t.function?.name === "string" ? t.function.name : "";
            parts.push({ type: "tool-call-start", index, id: typeof t.id === "string" && t.id !== "" ? t.id : `call_${index}`, name });
          }
          const args = t.function?.arguments;
          if (typeof args === "string" && args !== "") parts.push({ type: "tool-call-delta", index, arguments: args });
        }
      }
    }
    if (choice?.finish_reason !== undefined && choice.finish_reason !== null && !finished) {
      finished = true;
      parts.push({ type: "finish", reason: readFinish(choice.finish_reason) });
    }
    const usage = readUsage(chunk.usage);
    if (usage !== undefined) parts.push({ type: "usage", usage });
    return parts;
  };
  return {
    push(chunk) {
      const out: StreamPart[] = [];
      for (const e of events.push(chunk)) out.push(...decode(e.data));
      return out;
    },
    end() {
      const out: StreamPart[] = [];
      for (const e of events.end()) out.push(...decode(e.data));
      if (!finished && !done) {
        throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream stream ended before the answer was complete", { retryable: true });
      }
      return out;
    },
  };
}

/**
 * Parts as OpenAI chat.completion.chunk events. Every chunk carries the same
 * id, created and model; the usage chunk (empty choices) comes last, before
 * `[DONE]`, when the client asked for it.
 */
export function streamEncoder(ctx: AnswerContext): StreamEncoder {
  let id = `chatcmpl-${ctx.id}`;
  let roleSent = false;
  let usage: Usage | undefined;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    sseEvent(JSON.stringify({ id, object: "chat.completion.chunk", created: ctx.created, model: ctx.model, choices: [{ index: 0, delta, finish_reason: finish }] }));
  const withRole = (delta: Record<string, unknown>) => {
    if (roleSent) return delta;
    roleSent = true;
    return { role: "assistant", ...delta };
  };
  return {
    encode(parts) {
      let out = "";
      for (const p of parts) {
        switch (p.type) {
          case "start":
            if (p.id) id = p.id;
            break;
          case "text":
            out += chunk(withRole({ content: p.delta }));
            break;
          case "reasoning":
            out += chunk(withRole({ reasoning_content: p.delta }));
            break;
          case "reasoning-signature":
            out += chunk(withRole({ thinking_blocks: [{ type: "thinking", thinking: "", signature: p.signature }] }));
            break;
          case "reasoning-redacted":
            out += chunk(withRole({ thinking_blocks: [{ type: "redacted_thinking", data: p.data }] }));
            break;
          case "tool-call-start":
            out += chunk(withRole({ tool_calls: [{ index: p.index, id: p.id, type: "function", function: { name: p.name, arguments: "" } }] }));
            break;
          case "tool-call-delta":
            out += chunk(withRole({ tool_calls: [{ index: p.index, function: { arguments: p.arguments } }] }));
            break;
          case "finish":
            out += chunk(withRole({}), writeFinish(p.reason));
            break;
          case "usage":
            usage = p.usage;
            break;
        }
      }
      return out;
    },
    end() {
      let out = "";
      if (ctx.includeUsage && usage !== undefined) {
        out += sseEvent(JSON.stringify({ id, object: "chat.completion.chunk", created: ctx.created, model: ctx.model, choices: [], usage: writeUsage(usage) }));
      }
      return `${out}data: [DONE]\n\n`;
    },
  };
}
