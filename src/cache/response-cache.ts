import { ClientController } from "../protocol/client-controller.ts";
import { GatewayError } from "../protocol/errors.ts";
import type { Clock, Random } from "../time/clock.ts";
import { type CacheAnswer, channels } from "../telemetry/channels.ts";
import { convertible } from "./convert.ts";
import { directives } from "./directives.ts";
import { hash } from "node:crypto";
import { cacheKey, fingerprint, sameRequest } from "./key.ts";
import { FlightTable } from "./flight-table.ts";
import { AnswerStore, type NewEntry, type Saved } from "./answer-store.ts";
import { claimMemory, type MemoryClaim } from "./memory-claim.ts";
import { CacheFile } from "./persist.ts";
import { type AnswerHead, Recording } from "./recording.ts";
import { ReplayStream } from "./replay.ts";
import { type CacheMemory, type CacheReport, emptyModelStats, hitRate, type ModelCacheStats } from "./stats.ts";
import { answerFrom, askedForUsage, usageFilter, type Want } from "./answer.ts";
import type { Answer, CacheInfo, CacheRequest, SentStatus, Serve, Sink } from "./types.ts";
import { usageOfRecording } from "./usage.ts";
import type { CacheConfig } from "../config/types.ts";

/** The `cache:` section as the config resolved it. */
export type CacheSettings = CacheConfig;

/** A model's own setting: `cache: false`, or its own ttl. */
export type ModelCacheSetting = false | { ttl?: number } | undefined;

export interface CacheDeps {
  /** What the cache's channel messages name as their gateway. */
  gateway: object;
  clock: Clock;
  random: Random;
  warn(message: string): void;
  /** The engine's own path, taken on a miss. */
  serve: Serve;
  /** A public model's own cache setting. */
  modelSetting(model: string): ModelCacheSetting;
  /** True for a model name the config defines. */
  configured(model: string): boolean;
  /** Price per million tokens of a "provider/model" target, when it has one. */
  priceOf(target: string): { input: number; output: number } | undefined;
  /** Claims the memory of the cache's slabs ahead of its writes (memory-claim.ts); tests pass their own. */
  claimMemory?: typeof claimMemory;
}

/**
 * An upstream call under way, shared by every identical request that
 * arrives before it ends. One object per miss: the request that starts it
 * awaits the call itself (#own), and what others need to join it is made
 * only when one does.
 */
interface Flight {
  readonly fp: number;
  readonly id: RequestId;
  readonly op: string;
  readonly model: string;
  /** How long its answer is kept, in ms; 0: not stored. */
  readonly ttl: number;
  readonly rec: Recording;
  /**
   * Aborts the upstream call. A front's request brings its own (a
   * ClientController), which the call then uses, so that a miss makes no
   * controller of its own.
   */
  readonly controller: AbortController;
  /**
   * That front's controller while the request that lent it still waits for
   * the call: alone, its client leaving aborts the call; the first request
   * to join tells it to hold its abort back instead (#join).
   */
  lender: ClientController | undefined;
  /** The request that started the call went away before its answer. */
  ownerLeft: boolean;
  /** The requests still to be answered from it; the call is aborted when the last leaves before it ends. */
  readers: number;
}

/** What makes two requests the same one, beyond their fingerprint. */
interface RequestId {
  op: string;
  tenant: string;
  form: string;
  /** The request's bytes as its client sent them. */
  raw: Buffer;
}

/** Whether a stored or in-flight request is the one asked for now. */
function same(a: RequestId, b: RequestId): boolean {
  return a.op === b.op && a.tenant === b.tenant && a.form === b.form && (a.raw.equals(b.raw) || sameRequest(a.raw.toString("utf8"), b.raw.toString("utf8")));
}

const NOTHING = (): void => {};

/** The stats row of requests for models the config does not define ("provider/model" names). */
const OTHER_MODELS = "(other)";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function toGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : new GatewayError("SY_ERR_INTERNAL", "internal error", { cause: err });
}

/**
 * The response cache and request coalescing, in front of the engine's own
 * path. An answer is recorded as it arrives (recording.ts); readers replay
 * a recording from the start and follow it live. Coalescing shares a
 * recording still under way; the cache keeps finished, successful ones.
 */
export class ResponseCache {
  readonly settings: CacheSettings;
  readonly #deps: CacheDeps;
  readonly #store: AnswerStore;
  readonly #flights = new FlightTable<Flight>();
  /** Tags of tenants' keys (a hash each), for `cache.scope: key`. */
  readonly #tags = new Map<string, string>();
  readonly #seed: number;
  readonly #stats = new Map<string, ModelCacheStats>();
  readonly #file: CacheFile | undefined;
  #evictions = 0;
  #claim: MemoryClaim | undefined;
  #memory: CacheMemory;

  constructor(settings: CacheSettings, deps: CacheDeps) {
    this.settings = settings;
    this.#deps = deps;
    this.#seed = Math.floor(deps.random() * 0x100000000) | 0;
    this.#memory = settings.preallocate ? "unused" : "on write";
    this.#store = new AnswerStore(settings.maxBytes, {
      removed: (model, fileKey, evicted) => {
        if (evicted) {
          this.#evictions++;
          this.#statsFor(this.#row(model)).evictions++;
        }
        if (fileKey !== undefined) this.#file?.delete(fileKey);
      },
    }, settings.preallocate ? (slabs) => this.#claimSlabs(slabs) : undefined);
    if (settings.enabled && settings.persist !== undefined) this.#file = this.#openFile(settings.persist);
  }

  /** Starts claiming the memory of the store's slabs, allocated with its first entry. */
  #claimSlabs(slabs: SharedArrayBuffer[]): void {
    this.#memory = "claiming";
    const claim = (this.#deps.claimMemory ?? claimMemory)(slabs, (err) => {
      this.#memory = "on write";
      this.#deps.warn(`the cache's memory cannot be claimed ahead (${err.message}); it is claimed as entries are written`);
    });
    this.#claim = claim;
    claim.done.then(() => {
      if (this.#memory === "claiming") this.#memory = "claimed";
    }, NOTHING);
  }

  /** The cache file with its entries loaded; undefined (memory only, with a warning) when it cannot be used. */
  #openFile(path: string): CacheFile | undefined {
    const { clock, warn } = this.#deps;
    let file: CacheFile | undefined;
    try {
      file = new CacheFile(path, warn, clock.now());
      for (const row of file.load(clock.now())) {
        const { key, op, tenant, form, request, model, storedAt, expiresAt, inputTokens, outputTokens, cost } = row;
        let fp: number | undefined;
        try {
          fp = fingerprint(this.#seed, op, tenant, form, JSON.parse(request) as Record<string, unknown>);
        } catch {
          fp = undefined;
        }
        if (fp === undefined) {
          file.delete(key);
          continue;
        }
        const entry = { fp, op, tenant, form, request: Buffer.from(request), model, head: row.head, body: row.body, chunks: row.chunks ?? [], storedAt, expiresAt };
        if (!this.#store.put({ ...entry, fileKey: key, saved: { inputTokens, outputTokens, cost } })) file.delete(key);
      }
    } catch (err) {
      file?.close();
      warn(`the cache file ${path} cannot be used (${(err as Error).message}); the cache keeps its entries in memory only`);
      return undefined;
    }
    return file;
  }

  /**
   * Serves one request through the cache and coalescing, or straight
   * through when neither applies to it. Not an async function: one would
   * keep its frame (every local) in an object of its own while the call is
   * awaited, on every miss; what throws here is returned as a rejection.
   */
  handle(op: string, body: unknown, req: CacheRequest): Promise<Answer> {
    try {
      return this.#handle(op, body, req);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #handle(op: string, body: unknown, req: CacheRequest): Promise<Answer> {
    const { serve } = this.#deps;
    // Not a request the engine will accept: it says why, in its own words.
    if (!isObject(body) || typeof body.model !== "string") return serve(op, body as Record<string, unknown>, req);
    const d = directives(req.cacheControl, req.cacheTtl);
    const model = body.model;
    const own = this.#deps.modelSetting(model);
    const store = this.settings.enabled && own !== false && !d.noStore;
    const coalesce = this.settings.coalesce && !d.noStore;
    // Counted by configured model; any other name a client sends shares one row, so that names cannot grow the stats.
    const stats = this.#statsFor(this.#row(model));
    if (!store && !coalesce) {
      stats.bypasses++;
      this.#publish(req, op, model, "bypass", false);
      req.cacheStatus = "bypass";
      return serve(op, body, req).then((a) => tagged(a, { status: "bypass" }));
    }
    const want: Want = { op, model, stream: body.stream === true, usage: askedForUsage(body) };
    const tenant = this.settings.scope === "key" ? this.#tag(req.tenant ?? "") : "";
    const form = convertible(op) ? "" : want.stream ? "stream" : "whole";
    const fp = fingerprint(this.#seed, op, tenant, form, body);
    // Nested deeper than a request may be: the engine refuses it in its own words.
    if (fp === undefined) return serve(op, body, req);
    // The request's own bytes (the front passes what it parsed) are what a lookup is confirmed against; no key text is built.
    const id: RequestId = { op, tenant, form, raw: req.raw ?? Buffer.from(JSON.stringify(body)) };
    const now = this.#deps.clock.now();
    if (store && !d.noCache) {
      const slot = this.#store.find(fp, now);
      if (slot >= 0 && this.#store.isFor(slot, op, id.tenant, id.form) && (this.#store.hasRequest(slot, id.raw) || sameRequest(this.#store.requestOf(slot), id.raw.toString("utf8")))) {
        stats.hits++;
        const storedAt = this.#store.storedAt(slot);
        const rec = this.#store.read(slot);
        let saved = this.#store.savedOf(slot);
        if (saved === undefined) this.#store.setSaved(slot, (saved = this.#savedBy(op, rec)));
        stats.saved_input_tokens += saved.inputTokens;
        stats.saved_output_tokens += saved.outputTokens;
        stats.saved_cost += saved.cost;
        this.#publish(req, op, model, "hit", false);
        return Promise.resolve(answerFrom(rec, want, true, { status: "hit", age: Math.max(0, Math.floor((now - storedAt) / 1000)) }, this.#deps, NOTHING));
      }
    }
    const sent: SentStatus = !store ? "bypass" : d.noCache ? "refresh" : "miss";
    const info: CacheInfo = { status: sent };
    // What the front's x-switchyard-cache says if this request fails, and what its end event says.
    req.cacheStatus = sent;
    if (!store) stats.bypasses++;
    else if (d.noCache) stats.refreshes++;
    else stats.misses++;
    let flight = coalesce ? this.#flights.get(fp) : undefined;
    // A call being aborted (its only client left) is not one to join.
    if (flight !== undefined && (flight.controller.signal.aborted || !same(flight.id, id))) flight = undefined;
    this.#publish(req, op, model, info.status, flight !== undefined);
    if (flight !== undefined) {
      stats.coalesced++;
      return this.#join(flight, want, info, req);
    }
    const ttl = own !== false && own?.ttl !== undefined ? own.ttl : this.settings.ttl;
    return this.#own(fp, id, body, want, info, req, store ? (d.ttlMs ?? ttl) : 0, coalesce);
  }

  /** Drops every entry, or a model's; returns how many. */
  purge(model?: string): number {
    return this.#store.purge(model);
  }

  stats(): CacheReport {
    const models: CacheReport["models"] = {};
    for (const [name, s] of this.#stats) models[name] = { ...s, entries: 0, bytes: 0, hit_rate: hitRate(s.hits, s.misses) };
    this.#store.forEach((model, bytes) => {
      const m = (models[this.#row(model)] ??= { ...emptyModelStats(), entries: 0, bytes: 0, hit_rate: 0 });
      m.entries++;
      m.bytes += bytes;
    });
    let hits = 0;
    let misses = 0;
    let coalesced = 0;
    let savedIn = 0;
    let savedOut = 0;
    let savedCost = 0;
    for (const s of this.#stats.values()) {
      hits += s.hits;
      misses += s.misses;
      coalesced += s.coalesced;
      savedIn += s.saved_input_tokens;
      savedOut += s.saved_output_tokens;
      savedCost += s.saved_cost;
    }
    return {
      enabled: this.settings.enabled,
      coalesce: this.settings.coalesce,
      scope: this.settings.scope,
      hits,
      misses,
      hit_rate: hitRate(hits, misses),
      entries: this.#store.size,
      bytes: this.#store.bytes,
      max_bytes: this.settings.maxBytes,
      memory: this.#memory,
      evictions: this.#evictions,
      coalesced,
      in_flight: this.#flights.size,
      saved_tokens: { input: savedIn, output: savedOut },
      saved_cost: Math.round(savedCost * 1e6) / 1e6,
      models,
    };
  }

  close(): void {
    this.#file?.close();
    if (this.#claim !== undefined) this.#claim.stop().catch(NOTHING);
  }

  /** A tenant's tag: a hash of its key, so that the key itself is never kept or written. */
  #tag(tenant: string): string {
    let t = this.#tags.get(tenant);
    if (t === undefined) {
      if (this.#tags.size >= 1024) this.#tags.clear();
      this.#tags.set(tenant, (t = hash("sha256", tenant, "base64url")));
    }
    return t;
  }

  #publish(req: CacheRequest, op: string, model: string, status: CacheAnswer["status"], coalesced: boolean): void {
    if (!channels.cacheAnswer.hasSubscribers) return;
    const m: CacheAnswer = { gateway: this.#deps.gateway, requestId: req.requestId, op, model, status, coalesced };
    if (req.trace !== undefined) m.trace = req.trace;
    channels.cacheAnswer.publish(m);
  }

  /** The stats row of a model name. */
  #row(model: string): string {
    return this.#deps.configured(model) ? model : OTHER_MODELS;
  }

  #statsFor(model: string): ModelCacheStats {
    let s = this.#stats.get(model);
    if (s === undefined) this.#stats.set(model, (s = emptyModelStats()));
    return s;
  }

  /**
   * A miss that starts an upstream call: the flight others may join (when
   * `shared`), the call, its recording, and this request's answer. A
   * front's request awaits the call itself and has a whole answer handed
   * back from here; a stream it reads as any reader does (#join). `ttl` 0:
   * the answer is not stored. Throws only a client that already left.
   */
  #own(fp: number, id: RequestId, body: Record<string, unknown>, want: Want, info: CacheInfo, req: CacheRequest, ttl: number, shared: boolean): Promise<Answer> {
    const { op } = id;
    const signal = req.controller?.signal ?? req.signal;
    if (signal?.aborted) throw new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the request");
    const client = req.controller instanceof ClientController ? req.controller : undefined;
    // A front's request counts as a reader from the start; a caller in process counts once it joins (#inProcess).
    const readers = client === undefined ? 0 : 1;
    const flight: Flight = { fp, id, op, model: want.model, ttl, rec: new Recording(), controller: client ?? new AbortController(), lender: client, ownerLeft: false, readers };
    if (shared) this.#flights.set(fp, flight);
    // Usage is asked for on every recorded chat stream, so that replays and the stats have it; readers who did not ask have it dropped.
    if (op === "chat" && body.stream === true) body.stream_options = { ...(isObject(body.stream_options) ? body.stream_options : {}), include_usage: true };
    if (client === undefined) return this.#inProcess(flight, body, want, info, req);
    // One reaction on the call, not an async function's frame: this is every miss's path.
    const answered = (a: Answer): Answer | Promise<Answer> => {
      this.#record(flight, a);
      this.#ownerDone(flight);
      if (a.stream === undefined) {
        // A whole answer, to the request that made the call: as it came (the recording holds the same body); one
        // it asked to stream is converted.
        return want.stream ? answerFrom(flight.rec, want, false, info, this.#deps, NOTHING) : tagged(a, info);
      }
      // From here this request reads the stream as a joiner does, and counts as one there.
      return this.#join(flight, want, info, req);
    };
    const failed = (err: unknown): never => {
      this.#recordFailure(flight, err);
      this.#ownerDone(flight);
      throw flight.rec.failure!;
    };
    return this.#deps.serve(op, body, req).then(answered, failed);
  }

  /**
   * A miss by a caller in process, with its own signal or none: the call
   * goes out with a controller of its own and records itself, and the
   * caller reads it as a joiner does, so that its signal aborting answers it
   * at once, and aborts the call only when nobody else waits for it.
   */
  #inProcess(flight: Flight, body: Record<string, unknown>, want: Want, info: CacheInfo, req: CacheRequest): Promise<Answer> {
    const own: CacheRequest = { requestId: req.requestId, controller: flight.controller, cacheStatus: req.cacheStatus };
    if (req.passHeaders !== undefined) own.passHeaders = req.passHeaders;
    if (req.trace !== undefined) own.trace = req.trace;
    void this.#deps.serve(flight.op, body, own).then(
      (a) => this.#record(flight, a),
      (err) => this.#recordFailure(flight, err),
    );
    return this.#join(flight, want, info, req);
  }

  /** Records what the call answered: a whole answer at once, a stream as it arrives. The flight settles when it ends. */
  #record(flight: Flight, a: Answer): void {
    const head: AnswerHead = { status: a.status, contentType: a.contentType, target: a.target, attempts: a.attempts };
    if (a.stream === undefined) {
      flight.rec.finishBody(head, a.body!);
      this.#settle(flight);
      return;
    }
    flight.rec.open(head);
    void a.stream.pipeTo(recorder(flight)).then(() => this.#settle(flight));
  }

  #recordFailure(flight: Flight, err: unknown): void {
    flight.rec.fail(toGatewayError(err));
    this.#settle(flight);
  }

  /**
   * The front's request that started a call no longer waits on the call
   * itself: one reader fewer, and its controller no longer held back.
   * Throws for a client that already left.
   */
  #ownerDone(flight: Flight): void {
    const lender = flight.lender;
    if (lender !== undefined) {
      lender.onLeave = undefined;
      flight.lender = undefined;
    }
    if (flight.ownerLeft) throw new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the request");
    flight.readers--;
  }

  /** The client of the request that started a call left before the answer: one reader fewer. */
  #ownerLeaves(flight: Flight): void {
    if (flight.ownerLeft) return;
    flight.ownerLeft = true;
    flight.lender = undefined;
    this.#readerLeft(flight);
  }

  /** One reader fewer; the last to leave a call that has not ended aborts it. */
  #readerLeft(flight: Flight): void {
    if (--flight.readers === 0 && !flight.rec.ended) {
      this.#flights.delete(flight.fp, flight);
      flight.controller.abort(new GatewayError("SY_ERR_CLIENT_ABORT", "every client waiting for this answer went away"));
    }
  }

  /** A call has ended, either way: it can no longer be joined, and a good answer is stored. */
  #settle(flight: Flight): void {
    this.#flights.delete(flight.fp, flight);
    if (flight.ttl <= 0) return;
    try {
      this.#keep(flight);
    } catch (err) {
      this.#deps.warn(`could not store an answer in the cache: ${(err as Error).message}`);
    }
  }

  /** Stores a flight's answer when it ended well and fits. */
  #keep(flight: Flight): void {
    const { rec, op, model, ttl } = flight;
    if (rec.state !== "done" || flight.controller.signal.aborted) return;
    const head = rec.head!;
    if (head.status < 200 || head.status > 299) return;
    if (rec.bytes > this.settings.maxEntryBytes) {
      this.#statsFor(this.#row(model)).too_large++;
      return;
    }
    const now = this.#deps.clock.now();
    const { tenant, form, raw } = flight.id;
    const entry: NewEntry = { fp: flight.fp, op, tenant, form, request: raw, model, head, body: rec.body, chunks: rec.chunks, storedAt: now, expiresAt: now + ttl };
    // With a file: the row's key (a hash of the request's canonical form) and what the answer saves, made only then.
    const file = this.#file;
    if (file !== undefined) {
      entry.fileKey = cacheKey(op, JSON.parse(raw.toString("utf8")) as Record<string, unknown>, tenant, form);
      entry.saved = this.#savedBy(op, rec);
    }
    // The store copies the request and the answer into its ring: nothing of the flight is kept.
    if (!this.#store.put(entry)) {
      this.#statsFor(this.#row(model)).too_large++;
      return;
    }
    if (file === undefined) return;
    try {
      file.put({ key: entry.fileKey!, op, tenant, form, request: raw.toString("utf8"), model, storedAt: now, expiresAt: entry.expiresAt, ...entry.saved!, head, body: rec.body, chunks: rec.body === undefined ? rec.chunks : undefined });
    } catch (err) {
      this.#deps.warn(`could not write the cache file: ${(err as Error).message}`);
    }
  }

  /** The usage a stored answer reports, and its price at the answering target's rates. */
  #savedBy(op: string, rec: Recording): Saved {
    const usage = usageOfRecording(op, rec);
    const price = this.#deps.priceOf(rec.head!.target);
    const inputTokens = usage?.inputTokens ?? 0;
    const outputTokens = usage?.outputTokens ?? 0;
    const cost = price === undefined ? 0 : (inputTokens * price.input + outputTokens * price.output) / 1e6;
    return { inputTokens, outputTokens, cost };
  }

  /** One request's share of a flight: its answer once the head is known, in the form it asked for. */
  async #join(flight: Flight, want: Want, info: CacheInfo, req: CacheRequest): Promise<Answer> {
    flight.readers++;
    // The request that started the call still waits on it with its own controller: from now on its client
    // leaving must not abort the call, which others wait for too.
    const lender = flight.lender;
    if (lender !== undefined && lender.onLeave === undefined) {
      const ownerLeaves = (): boolean => {
        this.#ownerLeaves(flight);
        return true;
      };
      lender.onLeave = ownerLeaves;
    }
    // A front's controller says when its client leaves through a field; any other signal, through a listener.
    const client = req.controller instanceof ClientController ? req.controller : undefined;
    const signal = req.controller?.signal ?? req.signal;
    let left = false;
    let reader: ReplayStream | undefined;
    /** Ends the current wait (below) early: a reader that leaves is answered at once, not when the call ends. */
    let wake: (() => void) | undefined;
    // The client that started the call lends it its controller: its leaving must not abort the call while
    // others wait, so onAbort, as the controller's onLeave, says to hold the front's abort back; the last
    // one to leave aborts the call (leave, below).
    const lent = client !== undefined && flight.controller === client;
    const leave = () => {
      if (left) return;
      left = true;
      if (client !== undefined) client.onLeave = undefined;
      else signal?.removeEventListener("abort", onAbort);
      this.#readerLeft(flight);
      wake?.();
    };
    const onAbort = (): boolean => {
      if (reader !== undefined) reader.release();
      else leave();
      return lent;
    };
    if (signal?.aborted) {
      leave();
      throw new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the request");
    }
    // onAbort itself, named before it is stored (test/closures.test.ts says why).
    if (client === undefined) signal?.addEventListener("abort", onAbort, { once: true });
    else client.onLeave = onAbort;
    const { rec } = flight;
    const change = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        rec.onChange(resolve);
      });
    while (rec.state === "waiting" && !left) await change();
    // Only streams need to wait for the whole answer in the other form.
    if (rec.head === undefined || (!want.stream && rec.streamed)) while (!rec.ended && !left) await change();
    if (left) throw new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the request");
    if (rec.state === "failed" && (rec.head === undefined || !want.stream)) {
      leave();
      throw rec.failure!;
    }
    if (want.stream && rec.streamed) {
      const r = (reader = new ReplayStream(rec, usageFilter(want), () => leave()));
      return { ...rec.head!, stream: r, cache: info };
    }
    try {
      return answerFrom(rec, want, false, info, this.#deps, NOTHING);
    } finally {
      leave();
    }
  }
}

function tagged(a: Answer, info: CacheInfo): Answer {
  a.cache = info;
  return a;
}

/** The sink a flight's upstream stream is written into: every event kept, never full. */
function recorder(flight: Flight): Sink {
  const { rec, controller } = flight;
  return {
    write: (chunk) => {
      rec.push(chunk);
      return true;
    },
    // A stream let go (every reader left) ends without an error event: it did not complete.
    end: () => (controller.signal.aborted ? rec.fail(toGatewayError(controller.signal.reason)) : rec.finish()),
    fail: (err) => rec.fail(err),
    get closed() {
      return controller.signal.aborted;
    },
    onDrain: (fn) => fn(),
    onClose: (fn) => controller.signal.addEventListener("abort", fn, { once: true }),
  };
}
