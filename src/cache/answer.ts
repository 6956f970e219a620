import type { AnswerContext } from "../codecs/types.ts";
import type { Clock, Random } from "../time/clock.ts";
import { bodyToStream, streamToBody } from "./convert.ts";
import { Recording } from "./recording.ts";
import { type ChunkTransform, ReplayStream } from "./replay.ts";
import { dropUsageChunk, freshIds, randomHex } from "./rewrite.ts";
import type { Answer, CacheInfo } from "./types.ts";

/** What one request wants of an answer. */
export interface Want {
  op: string;
  model: string;
  stream: boolean;
  /** OpenAI's stream_options.include_usage, as this client sent it. */
  usage: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function askedForUsage(body: Record<string, unknown>): boolean {
  const o = body.stream_options;
  return isObject(o) && o.include_usage === true;
}

/**
 * An answer from a recording in the form the request wants. `fresh`: it is
 * a replay, and gets its own id and created time. A form the recording is
 * not in is converted, which also writes fresh ids.
 */
export function answerFrom(rec: Recording, want: Want, fresh: boolean, info: CacheInfo, deps: { clock: Clock; random: Random }, leave: () => void): Answer {
  const head = rec.head!;
  // The whole answer of an upstream call, to the request that made it: as it came.
  if (!fresh && !want.stream && !rec.streamed) return { status: head.status, contentType: head.contentType, target: head.target, attempts: head.attempts, body: rec.body!, cache: info };
  const base = { status: head.status, contentType: head.contentType, target: head.target, attempts: [], cache: info };
  if (rec.streamed === want.stream) {
    if (!want.stream) {
      const rewrite = fresh ? freshIds(rec.body!.toString("latin1", 0, 512), deps.random, deps.clock.now() / 1000) : undefined;
      return { ...base, attempts: fresh ? [] : head.attempts, body: rewrite === undefined ? rec.body! : Buffer.from(rewrite(rec.body!.toString("utf8"))) };
    }
    let transform = usageFilter(want);
    if (fresh && rec.chunks.length > 0) {
      const rewrite = freshIds(rec.chunks[0].toString("utf8"), deps.random, deps.clock.now() / 1000);
      if (rewrite !== undefined) {
        const drop = transform;
        transform = (c) => {
          const kept = drop === undefined ? c : drop(c);
          return kept.length === 0 ? kept : Buffer.from(rewrite(kept.toString("utf8")));
        };
      }
    }
    return { ...base, stream: new ReplayStream(rec, transform, leave) };
  }
  const ctx: AnswerContext = { model: want.model, id: randomHex(deps.random), created: Math.floor(deps.clock.now() / 1000), includeUsage: want.usage };
  if (want.stream) {
    const converted = Recording.finished(head, undefined, bodyToStream(want.op, rec.body!, ctx));
    return { ...base, contentType: "text/event-stream", stream: new ReplayStream(converted, undefined, leave) };
  }
  return { ...base, contentType: "application/json", body: streamToBody(want.op, rec.chunks, ctx) };
}

/** OpenAI chat streams carry a usage chunk only for clients that asked. */
export function usageFilter(want: Want): ChunkTransform | undefined {
  return want.op === "chat" && !want.usage ? dropUsageChunk : undefined;
}
