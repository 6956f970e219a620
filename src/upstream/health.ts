import { GatewayError } from "../protocol/errors.ts";
import { redactClip } from "../protocol/redact.ts";
import { Counters } from "../state/counters.ts";
import type { Clock } from "../time/clock.ts";
import { classifyTransportError } from "./errors.ts";
import type { ProviderRuntime } from "./runtime.ts";
import { readBody } from "./transport.ts";

/** What the health report says of one provider: the last probe plus what real traffic saw. */
export interface ProviderHealth {
  type: string;
  reachable: boolean;
  status?: number;
  response_time_ms?: number;
  last_error?: string;
  /** The catalogue code of `last_error`, e.g. SY_ERR_CONNECT_TIMEOUT. */
  last_error_code?: string;
  last_error_at?: string;
  checked_at?: string;
  in_flight: number;
}

interface Passive {
  lastError?: string;
  lastErrorCode?: string;
  lastErrorAt?: number;
  /** This provider's slot in the in-flight counters. */
  slot: number;
}

interface Probed {
  reachable: boolean;
  status?: number;
  responseTimeMs: number;
  error?: string;
  errorCode?: string;
  checkedAt: number;
}

const PROBE_TIMEOUT_MS = 5000;

/**
 * Upstream health: passive (what real traffic saw) plus active, token-free
 * probes (a model listing, which costs nothing) run when asked. Concurrent
 * asks share one probe round.
 */
export class HealthTracker {
  readonly #passive = new Map<string, Passive>();
  readonly #probed = new Map<string, Probed>();
  readonly #runtimes: Map<string, ProviderRuntime>;
  readonly #clock: Clock;
  readonly #secrets: string[];
  readonly #inFlight: Counters;
  #round: Promise<void> | undefined;

  /** `inFlight` holds one slot per provider, in config order; shared between workers when they run. */
  constructor(runtimes: Map<string, ProviderRuntime>, clock: Clock, secrets: string[], inFlight?: Counters) {
    this.#runtimes = runtimes;
    this.#clock = clock;
    this.#secrets = secrets;
    this.#inFlight = inFlight ?? new Counters(runtimes.size);
    let slot = 0;
    for (const name of runtimes.keys()) this.#passive.set(name, { slot: slot++ });
  }

  started(provider: string): void {
    const p = this.#passive.get(provider);
    if (p) this.#inFlight.add(p.slot, 1);
  }

  finished(provider: string, err: { code: string; message: string } | undefined): void {
    const p = this.#passive.get(provider);
    if (!p) return;
    this.#inFlight.add(p.slot, -1);
    // A client that left or an in-process stream nobody read says nothing about the provider.
    if (err !== undefined && err.code !== "SY_ERR_CLIENT_ABORT" && err.code !== "SY_ERR_STREAM_ABANDONED") {
      p.lastError = redactClip(err.message, this.#secrets);
      p.lastErrorCode = err.code;
      p.lastErrorAt = this.#clock.now();
    }
  }

  inFlight(provider: string): number {
    const p = this.#passive.get(provider);
    return p === undefined ? 0 : this.#inFlight.get(p.slot);
  }

  /** Probes every provider (at most one round at a time) and reports all of them. */
  async report(): Promise<Record<string, ProviderHealth>> {
    this.#round ??= this.#probeAll().finally(() => {
      this.#round = undefined;
    });
    await this.#round;
    const out: Record<string, ProviderHealth> = {};
    for (const [name, runtime] of this.#runtimes) {
      const passive = this.#passive.get(name)!;
      const probed = this.#probed.get(name);
      const lastError = probed?.error ?? passive.lastError;
      const lastErrorCode = probed?.error !== undefined ? probed.errorCode : passive.lastErrorCode;
      const entry: ProviderHealth = {
        type: runtime.prepared.config.type,
        reachable: probed?.reachable ?? false,
        in_flight: this.#inFlight.get(passive.slot),
      };
      if (probed?.status !== undefined) entry.status = probed.status;
      if (probed) entry.response_time_ms = Math.round(probed.responseTimeMs * 10) / 10;
      if (lastError !== undefined) entry.last_error = lastError;
      if (lastErrorCode !== undefined) entry.last_error_code = lastErrorCode;
      if (passive.lastErrorAt !== undefined) entry.last_error_at = new Date(passive.lastErrorAt).toISOString();
      if (probed) entry.checked_at = new Date(probed.checkedAt).toISOString();
      out[name] = entry;
    }
    return out;
  }

  async #probeAll(): Promise<void> {
    await Promise.all([...this.#runtimes].map(([name, rt]) => this.#probe(name, rt)));
  }

  async #probe(name: string, rt: ProviderRuntime): Promise<void> {
    const started = this.#clock.now();
    const configured = rt.prepared.config.timeouts;
    const budgetMs = configured.total > 0 ? Math.min(PROBE_TIMEOUT_MS, configured.total) : PROBE_TIMEOUT_MS;
    const label = `provider "${name}"`;
    // The budget covers the whole probe, so running out of it is a total timeout. A phase timeout
    // shorter than the budget stays armed and keeps its own code; one as long or longer could
    // never fire first, so it is left to the budget (0 means none).
    const within = (ms: number) => (ms > 0 && ms < budgetMs ? ms : 0);
    const timeouts = { ...configured, firstByte: within(configured.firstByte), idle: within(configured.idle) };
    const ac = new AbortController();
    const { signal } = ac;
    const budget = this.#clock.setTimeout(() => {
      ac.abort(new GatewayError("SY_ERR_TOTAL_TIMEOUT", `health probe of ${label} used its whole budget of ${budgetMs} ms`));
    }, budgetMs);
    try {
      const res = await rt.transport.send(rt.adapter.probeCall(rt.prepared, rt.prepared.keyHeaders[0]), signal, timeouts);
      const body = await readBody(res);
      const ok = res.status >= 200 && res.status < 300;
      const result: Probed = {
        reachable: res.status < 500,
        status: res.status,
        responseTimeMs: this.#clock.now() - started,
        checkedAt: this.#clock.now(),
      };
      if (!ok) {
        const err = rt.adapter.classifyStatus({ status: res.status, headers: res.headers, body: body.toString("utf8") }, this.#clock.now());
        result.error = redactClip(err.message, this.#secrets);
        result.errorCode = err.code;
      }
      this.#probed.set(name, result);
    } catch (err) {
      const e = classifyTransportError(err, signal, label);
      this.#probed.set(name, {
        reachable: false,
        responseTimeMs: this.#clock.now() - started,
        error: redactClip(e.message, this.#secrets),
        errorCode: e.code,
        checkedAt: this.#clock.now(),
      });
    } finally {
      this.#clock.clearTimeout(budget);
    }
  }
}
