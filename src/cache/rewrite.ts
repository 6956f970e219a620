import { eventData, firstEventEnd } from "../protocol/sse.ts";
import type { Random } from "../time/clock.ts";

/** The answer's own id, by each API's prefix: OpenAI chat and completions, Responses, Anthropic. */
const ID = /"id":"((chatcmpl-|cmpl-|resp_|msg_)[^"\\]*)"/;
const CREATED = /"(created|created_at)":(\d+)/;

/** A random id of `length` lowercase hex digits, from the injected randomness. */
export function randomHex(random: Random, length = 24): string {
  let out = "";
  while (out.length < length) out += Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Fresh random characters in the shape of `old`: hex digits for hex digits,
 * letters and digits for the rest, separators kept, so a replayed answer is
 * as long as the original (a UUID stays a UUID).
 */
function sameShape(old: string, random: Random): string {
  if (old.length === 0) return randomHex(random);
  let out = "";
  for (const c of old) {
    if (/[0-9a-f]/.test(c)) out += "0123456789abcdef"[Math.floor(random() * 16)];
    else if (/[A-Za-z0-9]/.test(c)) out += ALNUM[Math.floor(random() * ALNUM.length)];
    else out += c;
  }
  return out;
}

/**
 * Rewrites an answer's id and `created` time wherever they occur, so that a
 * replayed answer reads as a new one: `chatcmpl-…`, `resp_…`, `msg_…` keep
 * their prefix and shape with fresh random characters, and created times
 * become now.
 * Undefined when the answer carries neither (embeddings).
 */
export function freshIds(sample: string, random: Random, nowSeconds: number): ((text: string) => string) | undefined {
  const id = ID.exec(sample);
  const created = CREATED.exec(sample);
  if (id === null && created === null) return undefined;
  const oldId = id === null ? undefined : `"${id[1]}"`;
  const newId = id === null ? undefined : `"${id[2]}${sameShape(id[1].slice(id[2].length), random)}"`;
  const oldCreated = created?.[2];
  const now = String(Math.floor(nowSeconds));
  return (text) => {
    let out = text;
    if (oldId !== undefined) out = out.replaceAll(oldId, newId!);
    if (oldCreated !== undefined) {
      out = out.replaceAll(`"created":${oldCreated}`, `"created":${now}`).replaceAll(`"created_at":${oldCreated}`, `"created_at":${now}`);
    }
    return out;
  };
}

const NULL_USAGE = ',"usage":null';

/**
 * Drops OpenAI's usage chunk (`"choices":[]` with a usage object) from whole
 * events, for a client that did not ask for it: the gateway asks for usage
 * on every stream it records, so that replays and stats have it.
 */
export function dropUsageChunk(chunk: Buffer): Buffer {
  // Asked for usage, OpenAI also writes `"usage":null` into every other chunk: gone too, as it would be unasked.
  if (chunk.indexOf(NULL_USAGE) !== -1) chunk = Buffer.from(chunk.toString("utf8").replaceAll(NULL_USAGE, ""));
  if (chunk.indexOf('"choices":[]') === -1) return chunk;
  const kept: Buffer[] = [];
  for (let rest = chunk; rest.length > 0; ) {
    const end = firstEventEnd(rest) || rest.length;
    const event = rest.subarray(0, end);
    rest = rest.subarray(end);
    if (!isUsageChunk(event)) kept.push(event);
  }
  return kept.length === 1 ? kept[0] : Buffer.concat(kept);
}

function isUsageChunk(event: Buffer): boolean {
  if (event.indexOf('"choices":[]') === -1) return false;
  const data = eventData(event.toString("utf8"));
  if (data === undefined || data === "[DONE]") return false;
  try {
    const o = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(o.choices) && o.choices.length === 0 && o.usage !== null && typeof o.usage === "object";
  } catch {
    return false;
  }
}
