/**
 * Live statistics of one gateway, fed only by its diagnostics-channel events
 * (./channels.ts, and the limits' queue events): per configured target and
 * per public model, rolling 1/5/15-minute windows (./rolling.ts) and the
 * cumulative Prometheus series (./metric-families.ts), plus what is in flight
 * and queued. Time comes from the injected clock; nothing here runs on a
 * timer, and recording a request allocates nothing once its label
 * combination has been seen.
 *
 * What counts where:
 * - a target's requests are the attempts sent to it: a committed whole answer
 *   is a success, a committed stream counts when it ends; attempts ended by
 *   the client, a lost hedge or shutdown count nowhere, and a 4xx the
 *   upstream returned for the request itself counts as a success of the target;
 * - a model's requests are the client requests for it, counted alike;
 * - latency percentiles are of successful requests (arrival to the end of
 *   the answer; a target's, of the requests it answered), time to first
 *   token of streamed requests (arrival to the first event).
 */
import { channel } from "node:diagnostics_channel";
import type { GatewayConfig, Price } from "../config/types.ts";
import type { Clock } from "../time/clock.ts";
import { type AttemptEnd, type AttemptStart, type CacheAnswer, type ConfigReload, configReload, observeGateway, type RequestEnd, type RequestStart, type StreamEnd } from "./channels.ts";
import type { CounterCell, HistogramCell } from "./families.ts";
import { MetricFamilies, OTHER } from "./metric-families.ts";
import { genAiOperation, type Outcome, outcomeOf } from "./outcomes.ts";
import { ERROR, OK, Rolling, type RollingState, TIMEOUT } from "./rolling.ts";

/** The limits' queue events (limits/events.ts), read by channel name: the limits sit above telemetry. */
interface QueueMessage {
  gateway: object;
  queue: string;
  event: "wait" | "admit" | "timeout" | "leave";
  queued: number;
  waitedMs?: number;
}
const queueChannel = channel("switchyard:queue");
const QUEUE_OUTCOME = { admit: "admitted", timeout: "timeout", leave: "left" } as const;

/** Committed attempts whose request has not ended yet, for the overhead figure; bounded in case ends go missing. */
const MAX_PENDING = 10_000;

export class TargetEntry {
  readonly label: string;
  readonly provider: string;
  readonly model: string;
  readonly price: Price | undefined;
  inFlight = 0;
  /** Created on the first event, so that thousands of idle targets cost nothing. */
  rolling: Rolling | undefined;
  /** The cells of its successful attempts, the usual case. */
  attemptsOk: CounterCell | undefined;
  upstreamOk: HistogramCell | undefined;

  constructor(label: string, provider: string, model: string, price: Price | undefined) {
    this.label = label;
    this.provider = provider;
    this.model = model;
    this.price = price;
  }
}

/**
 * The cells one model's requests answered by one target feed, found once
 * and kept while the status, outcome and operation stay the same (they
 * nearly always do), so that a request costs one map lookup, not a dozen.
 */
class RequestCells {
  readonly target: string;
  status = -1;
  outcome = "";
  op = "";
  requests!: CounterCell;
  duration!: HistogramCell;
  ttft: HistogramCell | undefined;
  tokensIn: CounterCell | undefined;
  tokensOut: CounterCell | undefined;
  usageIn: HistogramCell | undefined;
  usageOut: HistogramCell | undefined;
  cost: CounterCell | undefined;

  constructor(target: string) {
    this.target = target;
  }
}

export class ModelEntry {
  readonly name: string;
  /** Its own targets' labels: an answer from another is a fallback's. */
  readonly targets: Set<string>;
  inFlight = 0;
  rolling: Rolling | undefined;
  /** Cached counter cells: one map lookup fewer per request. */
  retries: CounterCell | undefined;
  hedges: CounterCell | undefined;
  fallbacks: CounterCell | undefined;
  overhead: HistogramCell | undefined;
  readonly cells = new Map<string, RequestCells>();

  constructor(name: string, targets: Set<string>) {
    this.name = name;
    this.targets = targets;
  }
}

/** What the JSON reports read (metrics-json.ts): one recorder, or several workers' merged (mergeStats). */
export interface StatsView {
  readonly clock: Clock;
  readonly since: number;
  readonly targets: ReadonlyMap<string, { readonly label: string; readonly provider: string; readonly model: string; readonly inFlight: number; readonly rolling: Rolling | undefined }>;
  readonly models: ReadonlyMap<string, { readonly name: string; readonly inFlight: number; readonly rolling: Rolling | undefined }>;
  inFlight(): number;
  queued(): number;
}

/** A recorder's figures as plain data, for a worker thread to hand over. */
export interface StatsState {
  since: number;
  inFlight: number;
  queued: number;
  targets: Array<[label: string, inFlight: number, rolling: RollingState | undefined]>;
  models: Array<[name: string, inFlight: number, rolling: RollingState | undefined]>;
}

/** Several workers' figures as one view; `local` (this worker's recorder) gives the clock and the names. */
export function mergeStats(local: StatsRecorder, states: readonly StatsState[]): StatsView {
  type Entry = StatsState["targets"][number];
  const targetsOf = states.map((s) => new Map<string, Entry>(s.targets.map((e) => [e[0], e])));
  const modelsOf = states.map((s) => new Map<string, Entry>(s.models.map((e) => [e[0], e])));
  const merge = <E extends { inFlight: number; rolling: Rolling | undefined }>(key: string, entry: E, from: Array<Map<string, Entry>>): E => {
    let inFlight = 0;
    const rollings: RollingState[] = [];
    for (const m of from) {
      const found = m.get(key);
      if (found === undefined) continue;
      inFlight += found[1];
      if (found[2] !== undefined) rollings.push(found[2]);
    }
    return { ...entry, inFlight, rolling: rollings.length === 0 ? undefined : Rolling.merged(rollings) };
  };
  const targets = new Map([...local.targets].map(([label, t]) => [label, merge(label, { label, provider: t.provider, model: t.model, inFlight: 0, rolling: undefined as Rolling | undefined }, targetsOf)]));
  const models = new Map([...local.models].map(([name]) => [name, merge(name, { name, inFlight: 0, rolling: undefined as Rolling | undefined }, modelsOf)]));
  const inFlight = states.reduce((n, s) => n + s.inFlight, 0);
  const queued = states.reduce((n, s) => n + s.queued, 0);
  return {
    clock: local.clock,
    since: Math.min(local.since, ...states.map((s) => s.since)),
    targets,
    models,
    inFlight: () => inFlight,
    queued: () => queued,
  };
}

export class StatsRecorder implements StatsView {
  readonly families = new MetricFamilies();
  readonly targets = new Map<string, TargetEntry>();
  readonly models = new Map<string, ModelEntry>();
  /** Requests whose model is not configured (direct "provider/model" names). */
  readonly other = new ModelEntry(OTHER, new Set());
  /** Requests waiting in each limit queue, as its last event said. */
  readonly queues = new Map<string, number>();
  readonly clock: Clock;
  readonly since: number;
  readonly #gateway: object;
  readonly #pending = new Map<string, number>();
  readonly #unsubscribe: () => void;
  readonly #onQueue: (m: unknown) => void;
  readonly #onReload: (m: unknown) => void;
  /** The limit queues the config can make (limits/): any other is a direct name's, counted as OTHER. */
  readonly #queueNames = new Set<string>(["server"]);

  constructor(gateway: object, config: GatewayConfig, clock: Clock) {
    this.#gateway = gateway;
    this.clock = clock;
    this.since = clock.now();
    this.#addModels(config);
    this.#unsubscribe = observeGateway(gateway, {
      requestStart: (m) => this.#requestStart(m),
      requestEnd: (m) => this.#requestEnd(m),
      attemptStart: (m) => this.#attemptStart(m),
      attemptEnd: (m) => this.#attemptEnd(m),
      streamEnd: (m) => this.#streamEnd(m),
      cacheAnswer: (m) => this.#cacheAnswer(m),
    });
    const onQueue = (m: unknown) => this.#queue(m as QueueMessage);
    this.#onQueue = onQueue;
    queueChannel.subscribe(onQueue);
    // A reload's new models and targets are counted from then on; the old ones keep what they have.
    const onReload = (m: unknown) => {
      if ((m as ConfigReload).gateway === this.#gateway) this.#addModels((m as ConfigReload).config);
    };
    this.#onReload = onReload;
    configReload.subscribe(onReload);
  }

  #addModels(config: GatewayConfig): void {
    for (const m of Object.values(config.models)) {
      const own = new Set<string>();
      for (const t of m.targets) {
        const label = `${t.provider}/${t.model}`;
        own.add(label);
        if (!this.targets.has(label)) this.targets.set(label, new TargetEntry(label, t.provider, t.model, t.cost));
      }
      if (!this.models.has(m.name)) this.models.set(m.name, new ModelEntry(m.name, own));
    }
    for (const p of Object.keys(config.providers)) this.#queueNames.add(`provider:${p}`);
    for (const label of this.targets.keys()) this.#queueNames.add(`target:${label}`).add(`rate:target:${label}`);
  }

  close(): void {
    this.#unsubscribe();
    queueChannel.unsubscribe(this.#onQueue);
    configReload.unsubscribe(this.#onReload);
  }

  /** Requests in flight across every model. */
  inFlight(): number {
    let n = this.other.inFlight;
    for (const m of this.models.values()) n += m.inFlight;
    return n;
  }

  /** Requests waiting in the limit queues. */
  queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q;
    return n;
  }

  /** The figures as plain data (copies), for the main thread to hand to the worker that merges them. */
  state(): StatsState {
    return {
      since: this.since,
      inFlight: this.inFlight(),
      queued: this.queued(),
      targets: [...this.targets.values()].map((t) => [t.label, t.inFlight, t.rolling?.state()]),
      models: [...this.models.values()].map((m) => [m.name, m.inFlight, m.rolling?.state()]),
    };
  }

  #model(name: string): ModelEntry {
    return this.models.get(name) ?? this.other;
  }

  #requestStart(m: RequestStart): void {
    this.#model(m.model).inFlight++;
  }

  /** The cells for this request's labels, looked up again only when they differ from the last request's. */
  #cells(model: ModelEntry, targetLabel: string, status: number, outcome: Outcome, op: string): RequestCells {
    let c = model.cells.get(targetLabel);
    if (c === undefined) {
      c = new RequestCells(targetLabel);
      model.cells.set(targetLabel, c);
    }
    if (c.status === status && c.outcome === outcome && c.op === op) return c;
    const f = this.families;
    c.status = status;
    c.outcome = outcome;
    c.op = op;
    c.requests = f.requests.cell(model.name, targetLabel, status, outcome);
    c.duration = f.duration.cell(op, model.name, targetLabel, outcome);
    c.ttft = c.usageIn = c.usageOut = undefined;
    return c;
  }

  #requestEnd(e: RequestEnd): void {
    const now = this.clock.now();
    const model = this.#model(e.model);
    if (model.inFlight > 0) model.inFlight--;
    const target = e.target === undefined ? undefined : this.targets.get(e.target);
    const targetLabel = target?.label ?? (e.target === undefined ? "none" : OTHER);
    const outcome = outcomeOf(e.code);
    const f = this.families;
    const op = genAiOperation(e.op);
    const cells = this.#cells(model, targetLabel, e.status, outcome, op);
    cells.requests.value++;
    f.duration.observe(cells.duration, e.durationMs / 1000);
    const kind = windowKind(outcome);
    if (kind >= 0) {
      const r = (model.rolling ??= new Rolling());
      r.count(now, kind);
      if (outcome === "success") {
        r.latency(now, e.durationMs);
        if (target !== undefined) (target.rolling ??= new Rolling()).latency(now, e.durationMs);
      }
    }
    if (e.stream && e.ttfbMs !== undefined) {
      f.ttft.observe((cells.ttft ??= f.ttft.cell(op, model.name, targetLabel)), e.ttfbMs / 1000);
      (model.rolling ??= new Rolling()).ttft(now, e.ttfbMs);
      if (target !== undefined) (target.rolling ??= new Rolling()).ttft(now, e.ttfbMs);
    }
    const records = e.records;
    if (records !== undefined && records.length > 0) {
      let hedges = 0;
      for (let i = 0; i < records.length; i++) if (records[i].code === "SY_ERR_HEDGE_CANCELLED") hedges++;
      const retries = records.length - 1 - hedges;
      if (retries > 0) (model.retries ??= f.retries.cell(model.name)).value += retries;
      if (hedges > 0) (model.hedges ??= f.hedges.cell(model.name)).value += hedges;
      if (e.target !== undefined && model !== this.other && !model.targets.has(e.target)) (model.fallbacks ??= f.fallbacks.cell(model.name)).value++;
    }
    if (this.#pending.size > 0) {
      const upstreamMs = this.#pending.get(e.requestId);
      if (upstreamMs !== undefined) {
        this.#pending.delete(e.requestId);
        if (records?.length === 1 && e.ttfbMs !== undefined) f.overhead.observe((model.overhead ??= f.overhead.cell(model.name)), Math.max(0, e.ttfbMs - upstreamMs) / 1000);
      }
    }
    const usage = e.usage;
    if (usage !== undefined) {
      const input = usage.inputTokens;
      const output = usage.outputTokens;
      (cells.tokensIn ??= f.tokens.cell(model.name, targetLabel, "input")).value += input;
      (cells.tokensOut ??= f.tokens.cell(model.name, targetLabel, "output")).value += output;
      f.tokenUsage.observe((cells.usageIn ??= f.tokenUsage.cell(op, "input", model.name, targetLabel)), input);
      f.tokenUsage.observe((cells.usageOut ??= f.tokenUsage.cell(op, "output", model.name, targetLabel)), output);
      const price = target?.price;
      if (price !== undefined) (cells.cost ??= f.cost.cell(model.name, targetLabel)).value += (input * price.input + output * price.output) / 1_000_000;
    }
  }

  #cacheAnswer(c: CacheAnswer): void {
    const model = this.#model(c.model).name;
    this.families.cache.cell(model, c.status).value++;
    if (c.coalesced) this.families.coalesced.cell(model).value++;
  }

  #attemptStart(s: AttemptStart): void {
    const t = this.targets.get(s.target);
    if (t !== undefined) t.inFlight++;
  }

  #attemptEnd(e: AttemptEnd): void {
    const t = this.targets.get(e.target);
    const label = t?.label ?? OTHER;
    const f = this.families;
    if (e.error === undefined) {
      const cell = t === undefined ? f.upstream.cell(label, "success") : (t.upstreamOk ??= f.upstream.cell(label, "success"));
      f.upstream.observe(cell, e.durationMs / 1000);
      if (this.#pending.size >= MAX_PENDING) this.#pending.clear();
      this.#pending.set(e.requestId, e.durationMs);
      // A committed stream is judged when it ends.
      if (!e.streaming) this.#attemptOutcome(t, label, "success");
      return;
    }
    const outcome = outcomeOf(e.error.code);
    f.upstream.observe(f.upstream.cell(label, outcome), e.durationMs / 1000);
    this.#attemptOutcome(t, label, outcome);
  }

  #streamEnd(e: StreamEnd): void {
    const t = this.targets.get(e.target);
    this.#attemptOutcome(t, t?.label ?? OTHER, e.completed ? "success" : outcomeOf(e.error?.code ?? "SY_ERR_CLIENT_ABORT"));
  }

  /** An attempt is over: it leaves the target's in-flight count and counts by its outcome. */
  #attemptOutcome(t: TargetEntry | undefined, label: string, outcome: Outcome): void {
    const attempts = this.families.attempts;
    if (t !== undefined && outcome === "success") (t.attemptsOk ??= attempts.cell(label, outcome)).value++;
    else attempts.cell(label, outcome).value++;
    if (t === undefined) return;
    if (t.inFlight > 0) t.inFlight--;
    const kind = windowKind(outcome);
    if (kind >= 0) (t.rolling ??= new Rolling()).count(this.clock.now(), kind);
  }

  #queue(m: QueueMessage): void {
    if (m.gateway !== this.#gateway) return;
    let name = m.queue;
    if (this.#queueNames.has(name)) this.queues.set(name, m.queued);
    else {
      // A rate window of a direct "provider/model" name: counted together, by its events, so that labels stay bounded.
      name = name.startsWith("rate:") ? `rate:${OTHER}` : OTHER;
      this.queues.set(name, Math.max(0, (this.queues.get(name) ?? 0) + (m.event === "wait" ? 1 : -1)));
    }
    if (m.event === "wait" || m.waitedMs === undefined) return;
    const wait = this.families.queueWait;
    wait.observe(wait.cell(name, QUEUE_OUTCOME[m.event]), m.waitedMs / 1000);
  }
}

/** How an outcome counts in a window: OK (client errors too: the target did its part), ERROR, TIMEOUT, or -1 for not at all. */
function windowKind(outcome: Outcome): number {
  switch (outcome) {
    case "success":
    case "client_error":
      return OK;
    case "timeout":
      return TIMEOUT;
    case "error":
      return ERROR;
    default:
      return -1;
  }
}
