/**
 * The upstreams' own model lists, for `GET /v1/models`: each provider's
 * token-free probe call (a model listing), its ids offered as
 * `provider/model`. Lists are cached and refreshed in the background on the
 * engine's clock, so a request never waits on a slow upstream except the
 * very first, and that one only for a bounded time. What an upstream sends is
 * bounded too: a hostile one could list a million models.
 */
import { listedByDefault } from "../config/defaults.ts";
import type { Clock } from "../time/clock.ts";
import type { ProviderRuntime } from "./runtime.ts";

export interface ListedModel {
  id: string;
  /** "switchyard" for a configured model, else the provider's name. */
  ownedBy: string;
}

/** Plain data, stated in docs/providers.md. */
export interface ModelListPolicy {
  /** How often each list is fetched again. */
  refreshMs: number;
  /** How long the first request waits for the first round before it is answered with what there is. */
  firstWaitMs: number;
  /** The whole of one provider's fetch. */
  fetchBudgetMs: number;
  /** Ids kept per provider; the rest are dropped. */
  maxModels: number;
  /** A larger answer is not read at all. */
  maxBytes: number;
}

export const MODEL_LIST: Readonly<ModelListPolicy> = Object.freeze({
  refreshMs: 10 * 60_000,
  firstWaitMs: 2000,
  fetchBudgetMs: 10_000,
  maxModels: 2000,
  maxBytes: 8 * 1024 * 1024,
});

/** What a model id may be to be offered: as the gateway accepts model names (visible ASCII, bounded). */
const MODEL_ID = /^[\x21-\x7e]{1,200}$/;

/** OpenAI's list shape, which Anthropic's shares: `{"data":[{"id":…}]}`. */
function openaiIds(body: unknown): string[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  return data.flatMap((m: unknown) => {
    const id = (m as { id?: unknown } | null)?.id;
    return typeof id === "string" ? [id] : [];
  });
}

export class UpstreamModels {
  readonly #runtimes: Map<string, ProviderRuntime>;
  readonly #clock: Clock;
  readonly #policy: ModelListPolicy;
  /** Which key a provider's listing uses (one not on the bench). */
  readonly #keyFor: (provider: string) => number;
  /** The last list each provider gave; a failed fetch leaves the previous one. */
  readonly #lists = new Map<string, string[]>();
  /** Settles once the first round is done or `firstWaitMs` has passed: one deadline shared by every early request. */
  #firstWait: Promise<void> | undefined;
  #timer: unknown;
  #round: AbortController | undefined;
  #closed = false;
  /** Calls answered from the lists, and calls that had to fetch them, for /v1/cache/stats. */
  readonly counts = { hits: 0, misses: 0 };

  /** Model ids held, over every provider. */
  get entries(): number {
    let n = 0;
    for (const l of this.#lists.values()) n += l.length;
    return n;
  }

  constructor(runtimes: Map<string, ProviderRuntime>, clock: Clock, keyFor: (provider: string) => number, policy: ModelListPolicy = MODEL_LIST) {
    this.#runtimes = runtimes;
    this.#clock = clock;
    this.#keyFor = keyFor;
    this.#policy = policy;
  }

  /**
   * `configured` (the public names) first, then every listed upstream model
   * as `provider/model`. The first call starts the fetching; calls wait for
   * it until `firstWaitMs` after that at most, and from then on answer from
   * the cache at once.
   */
  async list(configured: readonly string[]): Promise<ListedModel[]> {
    // Only the first call asks the upstreams; later ones are answered from the lists (refreshed on a timer).
    if (this.#firstWait === undefined) this.counts.misses++;
    else this.counts.hits++;
    this.#firstWait ??= this.#within(this.#refresh(), this.#policy.firstWaitMs);
    await this.#firstWait;
    const seen = new Set(configured);
    const out: ListedModel[] = configured.map((id) => ({ id, ownedBy: "switchyard" }));
    for (const name of this.#runtimes.keys()) {
      for (const model of this.#lists.get(name) ?? []) {
        const id = `${name}/${model}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ id, ownedBy: name });
      }
    }
    return out;
  }

  /** Stops refreshing and abandons a fetch under way. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#round?.abort(new Error("the gateway is closing"));
  }

  async #refresh(): Promise<void> {
    const round = new AbortController();
    this.#round = round;
    const listed = [...this.#runtimes].filter(([, rt]) => rt.prepared.config.listModels ?? listedByDefault(rt.prepared.config.type));
    await Promise.all(listed.map(([name, rt]) => this.#fetch(name, rt, round.signal)));
    if (this.#closed) return;
    // Background: a gateway used as a library must be free to exit between refreshes.
    this.#timer = this.#clock.setTimeout(() => void this.#refresh(), this.#policy.refreshMs, { background: true });
  }

  async #fetch(name: string, rt: ProviderRuntime, roundSignal: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const abort = () => ac.abort(roundSignal.reason);
    roundSignal.addEventListener("abort", abort, { once: true });
    const budget = this.#clock.setTimeout(() => ac.abort(new Error("model list fetch over budget")), this.#policy.fetchBudgetMs, { background: true });
    try {
      const { prepared, adapter } = rt;
      const headers = prepared.keyHeaders[this.#keyFor(name)] ?? prepared.keyHeaders[0];
      const res = await rt.transport.send(adapter.probeCall(prepared, headers), ac.signal, prepared.config.timeouts);
      const body = await this.#read(res.body, ac);
      if (res.status < 200 || res.status >= 300 || body === undefined) return;
      this.#keep(name, rt, body);
    } catch {
      // Unreachable, refused, slow or malformed: the last list stays, the configured names are served regardless.
    } finally {
      this.#clock.clearTimeout(budget);
      roundSignal.removeEventListener("abort", abort);
    }
  }

  /**
   * A listing fetched elsewhere (an active health check's GET /models)
   * refreshes the cache as a fetch of its own would; one that cannot be read
   * leaves the last list.
   */
  offer(name: string, body: Buffer): void {
    const rt = this.#runtimes.get(name);
    if (rt === undefined || !(rt.prepared.config.listModels ?? listedByDefault(rt.prepared.config.type)) || body.length > this.#policy.maxBytes) return;
    try {
      this.#keep(name, rt, body);
    } catch {
      // Malformed: the last list stays.
    }
  }

  #keep(name: string, rt: ProviderRuntime, body: Buffer): void {
    const ids = (rt.adapter.modelIds ?? openaiIds)(JSON.parse(body.toString("utf8")));
    this.#lists.set(name, [...new Set(ids.filter((id) => MODEL_ID.test(id)))].slice(0, this.#policy.maxModels));
  }

  /** The whole body, or undefined (and the call abandoned) once it passes maxBytes. */
  async #read(body: AsyncIterable<Uint8Array>, ac: AbortController): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > this.#policy.maxBytes) {
        ac.abort(new Error("model list too large"));
        return undefined;
      }
      parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return Buffer.concat(parts, size);
  }

  /** Waits for `p`, or `ms` on the engine's clock, whichever ends first. */
  async #within(p: Promise<void>, ms: number): Promise<void> {
    let timer: unknown;
    const waited = new Promise<void>((resolve) => {
      timer = this.#clock.setTimeout(resolve, ms);
    });
    try {
      await Promise.race([p, waited]);
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }
}
