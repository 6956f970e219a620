import type { StreamPart } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { SseEvents } from "../sse-events.ts";
import type { ClassifyStreamError, StreamDecoder } from "../types.ts";
import { readFinish } from "./response.ts";
import { mergeUsage, readUsage } from "./usage.ts";

/** What an open content block is, by the upstream's block index. */
type Block = { kind: "text" | "thinking" | "other" } | { kind: "tool"; index: number; args: boolean };

interface Event {
  type?: unknown;
  index?: unknown;
  message?: { id?: unknown; model?: unknown; usage?: unknown };
  content_block?: { type?: unknown; id?: unknown; name?: unknown; text?: unknown; thinking?: unknown; signature?: unknown; data?: unknown; input?: unknown };
  delta?: { type?: unknown; text?: unknown; thinking?: unknown; signature?: unknown; partial_json?: unknown; stop_reason?: unknown; stop_sequence?: unknown };
  usage?: unknown;
}

function malformed(what: string): GatewayError {
  return new GatewayError("SY_ERR_UPSTREAM_MALFORMED", `upstream sent ${what}`, { retryable: true });
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * An Anthropic Messages stream as parts. Tool calls are numbered in the
 * order their blocks start, with the `toolu_` id and name of
 * content_block_start; a tool whose input arrived as no JSON at all gets
 * `{}` so its arguments are complete. Usage is message_start's input counts
 * with message_delta's output folded in. An `event: error` is classified by
 * the adapter; a stream that ends before message_delta gave a stop reason
 * (or message_stop came) was cut off.
 */
export function streamDecoder(classify: ClassifyStreamError): StreamDecoder {
  const events = new SseEvents();
  const blocks = new Map<number, Block>();
  const usage: Record<string, unknown> = {};
  let tools = 0;
  let finished = false;
  let stopped = false;
  let usageSent = false;

  const decode = (data: string, name: string | undefined): StreamPart[] => {
    let ev: Event;
    try {
      ev = JSON.parse(data) as Event;
    } catch {
      throw malformed("a stream event that is not valid JSON");
    }
    if (typeof ev !== "object" || ev === null) return [];
    const type = str(ev.type) ?? name;
    const parts: StreamPart[] = [];
    switch (type) {
      case "message_start": {
        const m = ev.message ?? {};
        parts.push({ type: "start", id: str(m.id), model: str(m.model) });
        mergeUsage(usage, m.usage);
        break;
      }
      case "content_block_start": {
        const c = ev.content_block ?? {};
        const at = typeof ev.index === "number" ? ev.index : blocks.size;
        if (c.type === "text") {
          blocks.set(at, { kind: "text" });
          if (typeof c.text === "string" && c.text !== "") parts.push({ type: "text", delta: c.text });
        } else if (c.type === "thinking") {
          blocks.set(at, { kind: "thinking" });
          if (typeof c.thinking === "string" && c.thinking !== "") parts.push({ type: "reasoning", delta: c.thinking });
          if (typeof c.signature === "string" && c.signature !== "") parts.push({ type: "reasoning-signature", signature: c.signature });
        } else if (c.type === "redacted_thinking") {
          blocks.set(at, { kind: "other" });
          if (typeof c.data === "string") parts.push({ type: "reasoning-redacted", data: c.data });
        } else if (c.type === "tool_use") {
          const index = tools++;
          const input = c.input !== null && typeof c.input === "object" && Object.keys(c.input).length > 0 ? JSON.stringify(c.input) : "";
          blocks.set(at, { kind: "tool", index, args: input !== "" });
          parts.push({ type: "tool-call-start", index, id: str(c.id) || `toolu_${index}`, name: str(c.name) ?? "" });
          if (input !== "") parts.push({ type: "tool-call-delta", index, arguments: input });
        } else blocks.set(at, { kind: "other" });
        break;
      }
      case "content_block_delta": {
        const d = ev.delta ?? {};
        const block = typeof ev.index === "number" ? blocks.get(ev.index) : undefined;
        if (d.type === "text_delta" && typeof d.text === "string" && d.text !== "") parts.push({ type: "text", delta: d.text });
        else if (d.type === "thinking_delta" && typeof d.thinking === "string" && d.thinking !== "") parts.push({ type: "reasoning", delta: d.thinking });
        else if (d.type === "signature_delta" && typeof d.signature === "string" && d.signature !== "") parts.push({ type: "reasoning-signature", signature: d.signature });
        else if (d.type === "input_json_delta" && block?.kind === "tool" && typeof d.partial_json === "string" && d.partial_json !== "") {
          block.args = true;
          parts.push({ type: "tool-call-delta", index: block.index, arguments: d.partial_json });
        }
        break;
      }
      case "content_block_stop": {
        const block = typeof ev.index === "number" ? blocks.get(ev.index) : undefined;
        if (block?.kind === "tool" && !block.args) {
          block.args = true;
          parts.push({ type: "tool-call-delta", index: block.index, arguments: "{}" });
        }
        break;
      }
      case "message_delta": {
        mergeUsage(usage, ev.usage);
        const reason = ev.delta?.stop_reason;
        if (typeof reason === "string" && !finished) {
          finished = true;
          const stopSequence = str(ev.delta?.stop_sequence);
          parts.push(stopSequence === undefined ? { type: "finish", reason: readFinish(reason) } : { type: "finish", reason: readFinish(reason), stopSequence });
        }
        const u = readUsage(usage);
        if (u !== undefined && (ev.usage !== undefined || finished)) {
          usageSent = true;
          parts.push({ type: "usage", usage: u });
        }
        break;
      }
      case "message_stop": {
        stopped = true;
        if (!finished) {
          finished = true;
          parts.push({ type: "finish", reason: tools > 0 ? "tool_calls" : "stop" });
        }
        const u = usageSent ? undefined : readUsage(usage);
        if (u !== undefined) parts.push({ type: "usage", usage: u });
        break;
      }
      case "error":
        throw classify(ev) ?? new GatewayError("SY_ERR_UPSTREAM_STATUS", "upstream sent an error event", { retryable: true });
      default:
        // ping, and event types added after this was written
        break;
    }
    return parts;
  };

  return {
    push(chunk) {
      const out: StreamPart[] = [];
      for (const e of events.push(chunk)) out.push(...decode(e.data, e.event));
      return out;
    },
    end() {
      const out: StreamPart[] = [];
      for (const e of events.end()) out.push(...decode(e.data, e.event));
      if (!finished && !stopped) throw malformed("a stream that ended before the answer was complete");
      return out;
    },
  };
}
