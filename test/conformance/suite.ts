/**
 * One conformance suite for every provider codec (Hono's router tests are
 * the model): each provider supplies fixtures in its real wire format, from
 * its public API reference, and the suite checks that they decode to the
 * same internal answers, that streams decode the same however the bytes are
 * split (UTF-8 characters and events cut anywhere), and that bad output
 * (an error event, a truncated stream, an unknown event) is handled.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChatCodec, ClassifyStreamError } from "../../src/codecs/types.ts";
import type { ChatRequest, ChatResult, FinishReason, StreamPart, Usage } from "../../src/protocol/chat.ts";
import { GatewayError } from "../../src/protocol/errors.ts";

/** What a whole answer or a stream should come to, compared field by field (only the fields given). */
export interface Expected {
  text?: string;
  reasoning?: string;
  /** Signatures of the reasoning blocks, in order. */
  signatures?: string[];
  toolCalls?: Array<{ id?: string; name: string; arguments: unknown }>;
  finish?: FinishReason;
  usage?: Partial<Usage>;
}

export interface ConformanceFixtures {
  /** Request translation: internal request in, the provider's body out (deep-equal on the fields given). */
  requests: Array<{ name: string; request: ChatRequest; model: string; expect: Record<string, unknown> }>;
  /** Whole answers in the provider's format. */
  responses: Array<{ name: string; body: unknown; expect: Expected }>;
  /** Streams in the provider's format, as the raw bytes of the body. */
  streams: Array<{ name: string; sse: string; expect: Expected }>;
  /** A stream whose error event must fail it with this status (classified by the adapter). */
  streamErrors: Array<{ name: string; sse: string; status: number; retryable: boolean }>;
  /** A stream cut off before the answer completed. */
  truncated: string[];
}

/** Folds parts into what they amount to. */
export function collect(parts: StreamPart[]): Required<Pick<Expected, "text" | "reasoning" | "signatures">> & {
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finish?: FinishReason;
  usage?: Usage;
} {
  const out = { text: "", reasoning: "", signatures: [] as string[], toolCalls: [] as Array<{ id: string; name: string; arguments: string }>, finish: undefined as FinishReason | undefined, usage: undefined as Usage | undefined };
  let finishes = 0;
  for (const p of parts) {
    if (p.type === "text") out.text += p.delta;
    else if (p.type === "reasoning") out.reasoning += p.delta;
    else if (p.type === "reasoning-signature") out.signatures.push(p.signature);
    else if (p.type === "tool-call-start") {
      assert.equal(p.index, out.toolCalls.length, "tool calls are numbered in the order they start");
      out.toolCalls.push({ id: p.id, name: p.name, arguments: "" });
    } else if (p.type === "tool-call-delta") {
      assert.ok(out.toolCalls[p.index], `a delta for tool call ${p.index} before its start`);
      out.toolCalls[p.index].arguments += p.arguments;
    } else if (p.type === "finish") {
      finishes++;
      out.finish = p.reason;
    } else if (p.type === "usage") out.usage = { ...out.usage, ...p.usage };
  }
  assert.ok(finishes <= 1, "a stream has at most one finish");
  return out;
}

function check(actual: ReturnType<typeof collect> | ChatResult, expect: Expected, where: string): void {
  const toolCalls = "toolCalls" in actual ? actual.toolCalls.map((t) => ("function" in t ? { id: t.id, name: t.function.name, arguments: t.function.arguments } : t)) : [];
  if (expect.text !== undefined) assert.equal(actual.text, expect.text, `${where}: text`);
  const reasoning = Array.isArray(actual.reasoning) ? actual.reasoning.map((b) => b.text).join("") : actual.reasoning;
  if (expect.reasoning !== undefined) assert.equal(reasoning, expect.reasoning, `${where}: reasoning`);
  if (expect.signatures !== undefined) {
    const sigs = Array.isArray(actual.reasoning) ? actual.reasoning.flatMap((b) => (b.signature ? [b.signature] : [])) : (actual as { signatures: string[] }).signatures;
    assert.deepEqual(sigs, expect.signatures, `${where}: signatures`);
  }
  if (expect.toolCalls !== undefined) {
    assert.equal(toolCalls.length, expect.toolCalls.length, `${where}: number of tool calls`);
    expect.toolCalls.forEach((t, i) => {
      if (t.id !== undefined) assert.equal(toolCalls[i].id, t.id, `${where}: tool call ${i} id`);
      else assert.ok(toolCalls[i].id, `${where}: tool call ${i} has an id`);
      assert.equal(toolCalls[i].name, t.name, `${where}: tool call ${i} name`);
      assert.deepEqual(JSON.parse(toolCalls[i].arguments || "{}"), t.arguments, `${where}: tool call ${i} arguments`);
    });
  }
  if (expect.finish !== undefined) assert.equal(actual.finish, expect.finish, `${where}: finish`);
  if (expect.usage !== undefined) {
    assert.ok(actual.usage, `${where}: usage missing`);
    for (const [k, v] of Object.entries(expect.usage)) assert.equal(actual.usage![k as keyof Usage], v, `${where}: usage.${k}`);
  }
}

/** Decodes `bytes` fed in the given pieces. */
function decodeIn(codec: ChatCodec, classify: ClassifyStreamError, bytes: Buffer, cuts: number[]): StreamPart[] {
  const d = codec.streamDecoder!(classify);
  const parts: StreamPart[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(...d.push(bytes.subarray(at, cut)));
    at = cut;
  }
  parts.push(...d.end());
  return parts;
}

/** Cut points to try: every single byte for short streams (so every UTF-8 and event boundary is split), else a spread. */
function splits(n: number): number[][] {
  const out: number[][] = [[], [1], [n - 1]];
  const step = n <= 600 ? 1 : Math.ceil(n / 300);
  for (let i = 1; i < n; i += step) out.push([i]);
  out.push(Array.from({ length: n - 1 }, (_, i) => i + 1));
  return out;
}

export function runConformance(name: string, codec: ChatCodec, classify: ClassifyStreamError, fx: ConformanceFixtures): void {
  describe(`conformance: ${name}`, () => {
    for (const r of fx.requests) {
      test(`request: ${r.name}`, () => {
        const body = codec.encodeRequest!(structuredClone(r.request), r.model);
        for (const [k, v] of Object.entries(r.expect)) assert.deepEqual(body[k], v, `field ${k}`);
      });
    }
    for (const r of fx.responses) {
      test(`answer: ${r.name}`, () => check(codec.decodeResponse!(structuredClone(r.body)), r.expect, r.name));
    }
    test("an answer that is not one is a malformed-upstream error", () => {
      for (const bad of [null, 42, "text", [], {}]) {
        assert.throws(() => codec.decodeResponse!(bad), (e: unknown) => e instanceof GatewayError && e.code === "SY_ERR_UPSTREAM_MALFORMED");
      }
    });
    for (const s of fx.streams) {
      test(`stream: ${s.name}, however the bytes are split`, () => {
        const bytes = Buffer.from(s.sse, "utf8");
        for (const cuts of splits(bytes.length)) check(collect(decodeIn(codec, classify, bytes, cuts)), s.expect, `${s.name} cut at ${cuts.length > 3 ? "every byte" : cuts.join(",")}`);
      });
    }
    for (const s of fx.streams.slice(0, 1)) {
      test("a retry starts from a fresh decoder: two decoders of one stream agree", () => {
        const bytes = Buffer.from(s.sse, "utf8");
        assert.deepEqual(collect(decodeIn(codec, classify, bytes, [])), collect(decodeIn(codec, classify, bytes, [7])));
      });
    }
    for (const e of fx.streamErrors) {
      test(`stream error: ${e.name}`, () => {
        assert.throws(
          () => decodeIn(codec, classify, Buffer.from(e.sse, "utf8"), []),
          (err: unknown) => err instanceof GatewayError && err.status === e.status && err.retryable === e.retryable,
        );
      });
    }
    fx.truncated.forEach((sse, i) => {
      test(`truncated stream ${i + 1} is one clean error`, () => {
        assert.throws(
          () => decodeIn(codec, classify, Buffer.from(sse, "utf8"), []),
          (err: unknown) => err instanceof GatewayError && err.code === "SY_ERR_UPSTREAM_MALFORMED" && err.retryable,
        );
      });
    });
    test("an unknown event type and comments are skipped", () => {
      const s = fx.streams[0];
      const noisy = `: keep-alive\n\nevent: something_new\ndata: {"type":"something_new","x":1}\n\n${s.sse}`;
      check(collect(decodeIn(codec, classify, Buffer.from(noisy, "utf8"), [])), s.expect, "with unknown events");
    });
  });
}
