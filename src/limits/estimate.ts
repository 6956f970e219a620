import type { ChatRequest } from "../protocol/chat.ts";
import { FRONT_API } from "../providers/types.ts";
import { countRequestTokens, countTextTokens } from "./tokens.ts";
import type { LimitedCall } from "./types.ts";

/** Counts tokens; the default loads the real tokenizer on first use (tokens.ts). */
export interface TokenCounter {
  request(req: ChatRequest): Promise<number>;
  text(text: string): Promise<number>;
}

export const tokenizerCounter: TokenCounter = { request: countRequestTokens, text: countTextTokens };

/** Bytes per token of JSON a tokenizer could not be used on: the rough rule, only as a last resort. */
const BYTES_PER_TOKEN = 4;

/**
 * The input tokens of a request, estimated before it is sent: counted once
 * per request (its attempts share the body object) and only for targets
 * under a tpm limit, so nothing else ever loads the tokenizer.
 */
export class TokenEstimates {
  readonly #counter: TokenCounter;
  readonly #byBody = new WeakMap<object, Promise<number>>();

  constructor(counter: TokenCounter = tokenizerCounter) {
    this.#counter = counter;
  }

  of(call: LimitedCall): Promise<number> {
    let p = this.#byBody.get(call.body);
    if (p === undefined) {
      p = this.#count(call);
      this.#byBody.set(call.body, p);
    }
    return p;
  }

  async #count(call: LimitedCall): Promise<number> {
    const { body, op } = call;
    try {
      if (FRONT_API[op] !== undefined) return await this.#counter.request(call.internal());
      const input = op === "embeddings" ? body.input : body.prompt;
      const ids = tokenIds(input);
      if (ids !== undefined) return ids;
      const text = inputText(input);
      if (text !== undefined) return await this.#counter.text(text);
    } catch {
      // A body the codec cannot read (it passes through as it is): fall back to its size.
    }
    return Math.ceil(JSON.stringify(body).length / BYTES_PER_TOKEN);
  }
}

/** The text of an embeddings input or a completions prompt (a string or a list of them); token-id arrays are not text. */
function inputText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("\n");
  return undefined;
}

/** Inputs given as token ids already (one list, or a list of lists): their count. */
function tokenIds(v: unknown): number | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  if (v.every((x) => typeof x === "number")) return v.length;
  if (v.every((x) => Array.isArray(x))) return v.reduce((n: number, x: unknown[]) => n + x.length, 0);
  return undefined;
}
