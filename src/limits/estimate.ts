import type { ChatRequest } from "../protocol/chat.ts";
import { FRONT_API } from "../providers/types.ts";
import { countRequestTokens, countTextTokens, type RoughCount, roughRequestTokens, tokenizerNow } from "./tokens.ts";
import type { LimitedCall } from "./types.ts";

/** Counts without a promise. */
export interface CountNow {
  request(req: ChatRequest): number;
  text(text: string): number;
}

/** Counts tokens; the default loads the real tokenizer on first use (tokens.ts). */
export interface TokenCounter {
  request(req: ChatRequest): Promise<number>;
  text(text: string): Promise<number>;
  /** The same counts at once, when they can be had so (the tokenizer has loaded); absent or undefined: only the promises. */
  now?(): CountNow | undefined;
}

export const tokenizerCounter: TokenCounter = { request: countRequestTokens, text: countTextTokens, now: tokenizerNow };

/** Bytes per token of JSON a tokenizer could not be used on: the rough rule, only as a last resort. */
const BYTES_PER_TOKEN = 4;

/**
 * The input tokens of a request, estimated before it is sent: counted once
 * per request (its attempts share the body object) and only for targets
 * under a tpm limit, so nothing else ever loads the tokenizer.
 */
export class TokenEstimates {
  readonly #counter: TokenCounter;
  /** The count of each body, or the promise of it while the tokenizer loads. */
  readonly #byBody = new WeakMap<object, number | Promise<number>>();

  constructor(counter: TokenCounter = tokenizerCounter) {
    this.#counter = counter;
  }

  of(call: LimitedCall): Promise<number> {
    const known = this.now(call);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.#byBody.get(call.body) as Promise<number> | undefined;
    if (p === undefined) {
      p = this.#count(call);
      this.#byBody.set(call.body, p);
    }
    return p;
  }

  /** The exact count, when this body has been counted already. */
  known(call: LimitedCall): number | undefined {
    const known = this.#byBody.get(call.body);
    return typeof known === "number" ? known : undefined;
  }

  /** A count without the tokenizer (tokens.ts: roughRequestTokens), for chat requests; undefined otherwise. */
  rough(call: LimitedCall): RoughCount | undefined {
    if (FRONT_API[call.op] === undefined) return undefined;
    try {
      return roughRequestTokens(call.internal());
    } catch {
      return undefined;
    }
  }

  /** The estimate at once, when it is known or the counter can count at once; undefined: ask of(). */
  now(call: LimitedCall): number | undefined {
    const known = this.#byBody.get(call.body);
    if (typeof known === "number") return known;
    if (known !== undefined) return undefined;
    const counter = this.#counter.now?.();
    if (counter === undefined) return undefined;
    const n = this.#countWith(call, (r) => counter.request(r), (t) => counter.text(t));
    if (typeof n !== "number") return undefined;
    this.#byBody.set(call.body, n);
    return n;
  }

  async #count(call: LimitedCall): Promise<number> {
    const n = await this.#countWith(call, (r) => this.#counter.request(r), (t) => this.#counter.text(t));
    this.#byBody.set(call.body, n);
    return n;
  }

  /** One count, with a counter that answers at once or with promises (the answer is then one too). */
  #countWith<T extends number | Promise<number>>(call: LimitedCall, request: (req: ChatRequest) => T, text: (t: string) => T): T | number {
    const { body, op } = call;
    const bySize = () => Math.ceil(JSON.stringify(body).length / BYTES_PER_TOKEN);
    let counted: T;
    try {
      if (FRONT_API[op] !== undefined) counted = request(call.internal());
      else {
        const input = op === "embeddings" ? body.input : body.prompt;
        const ids = tokenIds(input);
        if (ids !== undefined) return ids;
        const t = inputText(input);
        if (t === undefined) return bySize();
        counted = text(t);
      }
    } catch {
      // A body the codec cannot read (it passes through as it is): fall back to its size.
      return bySize();
    }
    return typeof counted === "number" ? counted : (counted.catch(bySize) as T);
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
