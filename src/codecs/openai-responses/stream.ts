import type { FinishReason, Usage } from "../../protocol/chat.ts";
import { sseEvent } from "../sse-events.ts";
import type { AnswerContext, StreamEncoder } from "../types.ts";
import { callItem, envelope, ids, messageItem, reasoningItem, status } from "./response.ts";

interface Open {
  kind: "reasoning" | "message" | "call";
  outputIndex: number;
  id: string;
  text: string;
  callId?: string;
  name?: string;
}

/**
 * Parts as the Responses API's event sequence: response.created and
 * in_progress; for each output item, output_item.added, its deltas (text
 * inside a content part, reasoning as a summary part, function-call
 * arguments) and its done events; response.completed (or incomplete) with the
 * whole response and usage. Every event carries `sequence_number`; item ids
 * are stable within the response.
 */
export function streamEncoder(ctx: AnswerContext): StreamEncoder {
  const id = ids(ctx);
  let seq = 0;
  let began = false;
  const items: Open[] = [];
  const done: unknown[] = [];
  let current: Open | undefined;
  const calls = new Map<number, Open>();
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;
  const ev = (type: string, payload: Record<string, unknown>) => sseEvent(JSON.stringify({ type, sequence_number: seq++, ...payload }), type);

  const begin = (): string => {
    if (began) return "";
    began = true;
    const r = envelope(ctx, [], { status: "in_progress", incomplete_details: null }, undefined);
    return ev("response.created", { response: r }) + ev("response.in_progress", { response: r });
  };
  const open = (kind: Open["kind"], itemId: string, extra: Partial<Open> = {}): string => {
    const o: Open = { kind, outputIndex: items.length, id: itemId, text: "", ...extra };
    items.push(o);
    if (kind !== "call") current = o;
    if (kind === "message") {
      return (
        ev("response.output_item.added", { output_index: o.outputIndex, item: messageItem(o.id, "", false) }) +
        ev("response.content_part.added", { item_id: o.id, output_index: o.outputIndex, content_index: 0, part: { type: "output_text", text: "", annotations: [] } })
      );
    }
    if (kind === "reasoning") {
      return (
        ev("response.output_item.added", { output_index: o.outputIndex, item: reasoningItem(o.id, "", false) }) +
        ev("response.reasoning_summary_part.added", { item_id: o.id, output_index: o.outputIndex, summary_index: 0, part: { type: "summary_text", text: "" } })
      );
    }
    return ev("response.output_item.added", { output_index: o.outputIndex, item: callItem(o.id, o.callId!, o.name!, "", false) });
  };
  const close = (o: Open): string => {
    if (current === o) current = undefined;
    let out = "";
    let item: Record<string, unknown>;
    if (o.kind === "message") {
      const part = { type: "output_text", text: o.text, annotations: [] };
      out += ev("response.output_text.done", { item_id: o.id, output_index: o.outputIndex, content_index: 0, text: o.text });
      out += ev("response.content_part.done", { item_id: o.id, output_index: o.outputIndex, content_index: 0, part });
      item = messageItem(o.id, o.text, true);
    } else if (o.kind === "reasoning") {
      out += ev("response.reasoning_summary_text.done", { item_id: o.id, output_index: o.outputIndex, summary_index: 0, text: o.text });
      out += ev("response.reasoning_summary_part.done", { item_id: o.id, output_index: o.outputIndex, summary_index: 0, part: { type: "summary_text", text: o.text } });
      item = reasoningItem(o.id, o.text, true);
    } else {
      out += ev("response.function_call_arguments.done", { item_id: o.id, output_index: o.outputIndex, arguments: o.text });
      item = callItem(o.id, o.callId!, o.name!, o.text, true);
    }
    done[o.outputIndex] = item;
    return out + ev("response.output_item.done", { output_index: o.outputIndex, item });
  };

  return {
    encode(parts) {
      let out = begin();
      for (const p of parts) {
        switch (p.type) {
          case "reasoning":
            if (current?.kind !== "reasoning") {
              if (current !== undefined) out += close(current);
              out += open("reasoning", id.reasoning);
            }
            current!.text += p.delta;
            out += ev("response.reasoning_summary_text.delta", { item_id: current!.id, output_index: current!.outputIndex, summary_index: 0, delta: p.delta });
            break;
          case "text":
            if (current?.kind !== "message") {
              if (current !== undefined) out += close(current);
              out += open("message", id.message);
            }
            current!.text += p.delta;
            out += ev("response.output_text.delta", { item_id: current!.id, output_index: current!.outputIndex, content_index: 0, delta: p.delta });
            break;
          case "tool-call-start": {
            if (current !== undefined) out += close(current);
            out += open("call", id.call(p.index), { callId: p.id, name: p.name });
            calls.set(p.index, items.at(-1)!);
            break;
          }
          case "tool-call-delta": {
            const c = calls.get(p.index);
            if (c === undefined) break;
            c.text += p.arguments;
            out += ev("response.function_call_arguments.delta", { item_id: c.id, output_index: c.outputIndex, delta: p.arguments });
            break;
          }
          case "finish":
            finish = p.reason;
            break;
          case "usage":
            usage = p.usage;
            break;
        }
      }
      return out;
    },
    end() {
      let out = begin();
      for (const o of items) if (done[o.outputIndex] === undefined) out += close(o);
      const state = status(finish);
      const type = state.status === "incomplete" ? "response.incomplete" : "response.completed";
      return out + ev(type, { response: envelope(ctx, done, state, usage) });
    },
  };
}
