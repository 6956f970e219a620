import type { FinishReason, StreamPart, Usage } from "../../protocol/chat.ts";
import { sseEvent } from "../sse-events.ts";
import type { AnswerContext, StreamEncoder } from "../types.ts";
import { messageId, writeFinish } from "./response.ts";
import { writeUsage } from "./usage.ts";

interface Tool {
  id: string;
  name: string;
  args: string;
  state: "queued" | "open" | "closed";
}

type Open = { kind: "text" | "thinking"; index: number; signed: boolean } | { kind: "tool"; index: number; tool: number };

function completeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parts as Anthropic's event sequence, the way its SDK reads it:
 * message_start, then content blocks one at a time (content_block_start,
 * deltas, content_block_stop) with indexes counting up from 0, then
 * message_delta with the stop reason and usage, then message_stop.
 *
 * message_start waits for the first content so that an upstream failing
 * before it can still fail over. Thinking blocks end at their signature.
 * A tool call that starts while another's block is open waits (arguments
 * buffered) until the open one's arguments are complete JSON, or until
 * something else comes: its block then opens with what it has so far. Only
 * upstreams that interleave the arguments of several calls make this wait.
 */
export function streamEncoder(ctx: AnswerContext): StreamEncoder {
  let upstreamId: string | undefined;
  let started = false;
  let next = 0;
  let open: Open | undefined;
  const tools = new Map<number, Tool>();
  const queue: number[] = [];
  let toolBlocks = 0;
  let finish: FinishReason | undefined;
  let stopSequence: string | undefined;
  let usage: Usage | undefined;
  let out = "";

  const emit = (type: string, body: Record<string, unknown>) => {
    out += sseEvent(JSON.stringify({ type, ...body }), type);
  };
  const start = () => {
    if (started) return;
    started = true;
    const u = writeUsage(usage);
    emit("message_start", {
      message: {
        id: messageId(upstreamId, ctx.id),
        type: "message",
        role: "assistant",
        model: ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...u, output_tokens: 0 },
      },
    });
  };
  const close = () => {
    if (open === undefined) return;
    emit("content_block_stop", { index: open.index });
    if (open.kind === "tool") tools.get(open.tool)!.state = "closed";
    open = undefined;
  };
  const openBlock = (block: Record<string, unknown>): number => {
    start();
    close();
    emit("content_block_start", { index: next, content_block: block });
    return next++;
  };
  const openTool = (n: number) => {
    const t = tools.get(n)!;
    open = { kind: "tool", index: openBlock({ type: "tool_use", id: t.id, name: t.name, input: {} }), tool: n };
    t.state = "open";
    toolBlocks++;
    if (t.args !== "") emit("content_block_delta", { index: open.index, delta: { type: "input_json_delta", partial_json: t.args } });
  };
  /** Opens waiting tool calls while the open one's arguments are complete. */
  const advance = () => {
    while (queue.length > 0 && open?.kind === "tool" && completeJson(tools.get(open.tool)!.args)) openTool(queue.shift()!);
  };
  /** Something else comes: every waiting tool call gets its block now. */
  const flush = () => {
    while (queue.length > 0) openTool(queue.shift()!);
    close();
  };
  const textLike = (kind: "text" | "thinking", delta: string) => {
    if (open?.kind !== kind || (open.kind === "thinking" && open.signed)) {
      flush();
      const block = kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
      open = { kind, index: openBlock(block), signed: false };
    }
    if (delta !== "") {
      emit("content_block_delta", { index: open.index, delta: kind === "text" ? { type: "text_delta", text: delta } : { type: "thinking_delta", thinking: delta } });
    }
  };

  const part = (p: StreamPart) => {
    switch (p.type) {
      case "start":
        upstreamId = p.id;
        break;
      case "text":
        if (p.delta !== "") textLike("text", p.delta);
        break;
      case "reasoning":
        if (p.delta !== "") textLike("thinking", p.delta);
        break;
      case "reasoning-signature":
        // A signature closes the thinking block it follows. One that follows text or a tool call
        // (Gemini signs text parts) signs no thinking here: an empty signed block after the text
        // would end the answer with thinking, so it is left out.
        if (open?.kind !== "thinking" || open.signed) {
          if (open !== undefined || next > 0) break;
          textLike("thinking", "");
        }
        emit("content_block_delta", { index: open!.index, delta: { type: "signature_delta", signature: p.signature } });
        (open as { signed: boolean }).signed = true;
        break;
      case "reasoning-redacted":
        flush();
        openBlock({ type: "redacted_thinking", data: p.data });
        emit("content_block_stop", { index: next - 1 });
        break;
      case "tool-call-start":
        if (tools.has(p.index)) break;
        tools.set(p.index, { id: p.id, name: p.name, args: "", state: "queued" });
        if (open?.kind === "tool") {
          queue.push(p.index);
          advance();
        } else {
          flush();
          openTool(p.index);
        }
        break;
      case "tool-call-delta": {
        const t = tools.get(p.index);
        // A closed block cannot take more: only an upstream that sends text between a call's arguments loses them.
        if (t === undefined || t.state === "closed" || p.arguments === "") break;
        t.args += p.arguments;
        if (t.state === "open") emit("content_block_delta", { index: open!.index, delta: { type: "input_json_delta", partial_json: p.arguments } });
        advance();
        break;
      }
      case "finish":
        finish ??= p.reason;
        stopSequence ??= p.stopSequence;
        start();
        flush();
        break;
      case "usage":
        usage = p.usage;
        break;
    }
  };

  return {
    encode(parts) {
      out = "";
      for (const p of parts) part(p);
      return out;
    },
    end() {
      out = "";
      start();
      flush();
      emit("message_delta", {
        delta: { stop_reason: writeFinish(finish ?? (toolBlocks > 0 ? "tool_calls" : "stop")), stop_sequence: stopSequence ?? null },
        usage: writeUsage(usage),
      });
      emit("message_stop", {});
      return out;
    },
  };
}
