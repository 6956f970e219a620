/**
 * Token counts of requests, with a real BPE tokenizer (OpenAI's o200k_base,
 * from gpt-tokenizer): exact for OpenAI's current models, a close estimate
 * for others (Anthropic's and Google's tokenizers are not published; counts
 * differ by a few percent). The tokenizer's tables (a few MB) load on first
 * use, so a gateway that never counts never pays for them.
 */
import type { ChatRequest } from "../protocol/chat.ts";

type CountTokens = (text: string) => number;
let loading: Promise<CountTokens> | undefined;
/** The tokenizer once its tables are loaded, for counting without a promise. */
let loaded: CountTokens | undefined;

function tokenizer(): Promise<CountTokens> {
  loading ??= import("gpt-tokenizer/encoding/o200k_base").then((m) => (loaded = cached((text: string) => m.countTokens(text))));
  return loading;
}

/** Counts at once, when the tokenizer has loaded (undefined before). */
export function tokenizerNow(): { request(req: ChatRequest): number; text(text: string): number } | undefined {
  const count = loaded;
  return count === undefined ? undefined : { request: (req) => requestTokens(count, req), text: count };
}

/** Whether anything in this process has asked for the tokenizer yet (its tables load once, on that first ask). */
export function tokenizerLoaded(): boolean {
  return loading !== undefined;
}

/**
 * Token counts of texts already seen. Agents send the same long history on
 * every turn: counting each message once and remembering it turns the
 * tokenizer's ~20 µs per KB into one hash lookup. Short texts are counted
 * directly; the cache holds at most CACHE_CHARS characters of keys, oldest
 * dropped first.
 */
const CACHE_MIN = 256;
const CACHE_CHARS = 8 * 1024 * 1024;
const seen = new Map<string, number>();
let seenChars = 0;

/** Lookups of the token-count cache, for /v1/cache/stats (texts shorter than CACHE_MIN are not looked up). */
export const tokenCountCache = {
  hits: 0,
  misses: 0,
  get entries(): number {
    return seen.size;
  },
};

function cached(count: CountTokens): CountTokens {
  return (text) => {
    if (text.length < CACHE_MIN) return count(text);
    const hit = seen.get(text);
    if (hit !== undefined) {
      tokenCountCache.hits++;
      return hit;
    }
    tokenCountCache.misses++;
    const n = count(text);
    seen.set(text, n);
    seenChars += text.length;
    while (seenChars > CACHE_CHARS) {
      const oldest = seen.keys().next().value as string;
      seen.delete(oldest);
      seenChars -= oldest.length;
    }
    return n;
  };
}

/** Tokens a chat message costs beyond its text (role and separators), as OpenAI's chat format counts them. */
const PER_MESSAGE = 3;
/** The assistant's reply is primed with a few tokens. */
const PER_REQUEST = 3;

/** Tokens of a message's content: its texts, and each image at a flat rate. */
function contentTokens(count: CountTokens, content: ChatRequest["messages"][number]["content"]): number {
  if (typeof content === "string") return count(content);
  if (!Array.isArray(content)) return 0;
  let text = "";
  let images = 0;
  for (const p of content) {
    if (p.type === "text") text += p.text;
    else images++;
  }
  return count(text) + images * IMAGE_TOKENS;
}

/** Tokens an image counts for when its size is unknown: a typical tile-based estimate. */
const IMAGE_TOKENS = 765;

/** Input tokens of a chat request: messages (text, tool calls, tool results, reasoning), the system prompt and tool definitions. */
export async function countRequestTokens(req: ChatRequest): Promise<number> {
  return requestTokens(await tokenizer(), req);
}

function requestTokens(count: CountTokens, req: ChatRequest): number {
  let total = PER_REQUEST;
  for (const m of req.messages) {
    total += PER_MESSAGE + contentTokens(count, m.content);
    if (m.tool_calls !== undefined) for (const t of m.tool_calls) total += count(t.function.name) + count(t.function.arguments) + PER_MESSAGE;
    if (m.reasoning !== undefined) for (const r of m.reasoning) total += count(r.text);
  }
  if (req.tools !== undefined && req.tools.length > 0) total += count(JSON.stringify(req.tools));
  return total;
}

/** Tokens of plain text. */
export async function countTextTokens(text: string): Promise<number> {
  return (await tokenizer())(text);
}

/** Tokens a UTF-16 code unit can cost at most: a byte-level BPE token covers at least one UTF-8 byte, and a unit encodes to at most three. */
const MAX_TOKENS_PER_UNIT = 3;
/** Characters per token in ordinary text: the rough rule. */
const CHARS_PER_TOKEN = 4;

/** A count without the tokenizer: a rough estimate, and a bound the exact count cannot exceed. */
export interface RoughCount {
  estimate: number;
  bound: number;
}

/**
 * The input tokens of a chat request without running the tokenizer: its
 * characters over 4, and a bound on the exact count from its length alone.
 * Reads only string lengths, so it costs next to nothing however long the
 * history; undefined for requests with tool definitions (whose text is not
 * at hand without serialising them).
 */
export function roughRequestTokens(req: ChatRequest): RoughCount | undefined {
  if (req.tools !== undefined && req.tools.length > 0) return undefined;
  let chars = 0;
  let fixed = PER_REQUEST;
  for (const m of req.messages) {
    fixed += PER_MESSAGE;
    const content = m.content;
    if (typeof content === "string") chars += content.length;
    else if (Array.isArray(content)) {
      for (const p of content) {
        if (p.type === "text") chars += p.text.length;
        else fixed += IMAGE_TOKENS;
      }
    }
    if (m.tool_calls !== undefined) {
      for (const t of m.tool_calls) {
        chars += t.function.name.length + t.function.arguments.length;
        fixed += PER_MESSAGE;
      }
    }
    if (m.reasoning !== undefined) for (const r of m.reasoning) chars += r.text.length;
  }
  return { estimate: fixed + Math.ceil(chars / CHARS_PER_TOKEN), bound: fixed + MAX_TOKENS_PER_UNIT * chars };
}
