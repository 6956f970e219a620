import type { StreamPart, Usage } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { SseEvents } from "../sse-events.ts";
import type { ClassifyStreamError, StreamDecoder } from "../types.ts";
import { firstCandidate, partsOf, readFinish, str, toolCallOf, type GeminiResponse } from "./response.ts";
import { readUsage } from "./usage.ts";

/** Keys of which at least one is in every GenerateContentResponse; an event with none is something else. */
const RESPONSE_KEYS = ["candidates", "promptFeedback", "usageMetadata", "responseId", "modelVersion"];

/**
 * A `streamGenerateContent?alt=sse` stream as parts. Each event is a whole
 * GenerateContentResponse holding the next piece of the answer; a function
 * call arrives whole in one part (so its start and its arguments are emitted
 * together), and usage is repeated on every event, growing: it is given once
 * the answer has finished, and again if a later event still changes it. A
 * stream that ends before a finishReason (or a blocked prompt) was cut off.
 */
export function streamDecoder(classify: ClassifyStreamError): StreamDecoder {
  const events = new SseEvents();
  let started = false;
  let finished = false;
  let calls = 0;
  let usage: Usage | undefined;
  let usageSent: string | undefined;

  const decode = (data: string): StreamPart[] => {
    let event: GeminiResponse;
    try {
      event = JSON.parse(data);
    } catch {
      throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream sent a stream event that is not valid JSON", { retryable: true });
    }
    if (typeof event !== "object" || event === null || Array.isArray(event)) return [];
    if (event.error !== undefined && event.error !== null) {
      throw classify(event) ?? new GatewayError("SY_ERR_UPSTREAM_STATUS", "upstream sent an error event", { retryable: true });
    }
    if (!RESPONSE_KEYS.some((k) => k in event)) return [];
    const parts: StreamPart[] = [];
    if (!started) {
      started = true;
      parts.push({ type: "start", id: str(event.responseId), model: str(event.modelVersion) });
    }
    const responseId = str(event.responseId);
    const candidate = firstCandidate(event);
    for (const part of partsOf(candidate)) {
      const signature = str(part.thoughtSignature) || undefined;
      if (part.functionCall !== undefined) {
        const call = toolCallOf(part, responseId, calls);
        if (call === undefined) continue;
        const index = calls++;
        parts.push({ type: "tool-call-start", index, id: call.id, name: call.function.name });
        parts.push({ type: "tool-call-delta", index, arguments: call.function.arguments });
        continue;
      }
      const text = str(part.text) ?? "";
      if (text !== "") parts.push({ type: part.thought === true ? "reasoning" : "text", delta: text });
      if (signature !== undefined) parts.push({ type: "reasoning-signature", signature });
    }
    const u = readUsage(event.usageMetadata);
    if (u !== undefined) usage = u;
    const blocked = candidate === undefined && str(event.promptFeedback?.blockReason) !== undefined;
    const reason = candidate?.finishReason;
    if (!finished && (blocked || (typeof reason === "string" && reason !== "" && reason !== "FINISH_REASON_UNSPECIFIED"))) {
      finished = true;
      parts.push({ type: "finish", reason: blocked ? "content_filter" : readFinish(reason, calls > 0) });
    }
    if (finished && usage !== undefined) {
      const key = JSON.stringify(usage);
      if (key !== usageSent) {
        usageSent = key;
        parts.push({ type: "usage", usage });
      }
    }
    return parts;
  };

  // Gemini's events are unnamed; a named one is not a GenerateContentResponse.
  const take = (list: Array<{ event?: string; data: string }>): StreamPart[] => {
    const out: StreamPart[] = [];
    for (const e of list) if (e.event === undefined || e.event === "message") out.push(...decode(e.data));
    return out;
  };
  return {
    push: (chunk) => take(events.push(chunk)),
    end() {
      const out = take(events.end());
      if (!finished) throw new GatewayError("SY_ERR_UPSTREAM_MALFORMED", "upstream stream ended before the answer was complete", { retryable: true });
      return out;
    },
  };
}
