/**
 * The chaos harness: an engine (no HTTP front, so every socket left is an
 * upstream one) in front of several mock upstreams whose faults the test
 * decides request by request, a runner that keeps a fixed number of
 * requests in flight, and a record of every attempt per target.
 *
 * The engine runs on a fake clock: its deadlines, backoffs and Retry-After
 * waits move only when a test says so. Connect, first-byte and idle limits
 * are the HTTP client's own timers; where a fault needs one of them to fire,
 * the provider sets it short.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { resolveConfig } from "../../src/config/load.ts";
import { Engine } from "../../src/engine/gateway.ts";
import { startMockUpstream, type MockUpstream, type RecordedRequest } from "../../src/mock/index.ts";
import { type AttemptRecord, isGatewayError } from "../../src/protocol/errors.ts";
import type { AttemptEnd } from "../../src/telemetry/channels.ts";
import { FakeClock, seededRandom } from "../helpers/fake-clock.ts";

/** Picks the fault for one request a mock receives: a fault spec, or null for a good answer. */
export type FaultPicker = (req: RecordedRequest) => string | null;

export interface ChaosOptions {
  /** One mock per name; `faults` decides each of its requests; `engineClock` runs its latency and pacing on the engine's fake clock. */
  mocks: Record<string, { faults?: FaultPicker; options?: Parameters<typeof startMockUpstream>[0]; engineClock?: boolean }>;
  /** The config, given the mocks' base URLs (and `refused`, a URL nothing listens on). */
  config: (urls: Record<string, string>) => Record<string, unknown>;
  /** A base URL on which connections are refused. */
  refusedUrl: string;
  /** Seeds the engine's randomness (orders, exploration, jitter). */
  seed: number;
}

export interface Outcome {
  model: string;
  stream: boolean;
  ok: boolean;
  status: number;
  /** The catalogue code when it failed, its message, and the Retry-After it carried. */
  code?: string;
  message?: string;
  retryAfterMs?: number;
  target?: string;
  attempts: AttemptRecord[];
}

export interface AttemptEvent {
  target: string;
  /** undefined: committed. */
  code?: string;
}

export class Chaos {
  readonly clock = new FakeClock();
  readonly mocks: Record<string, MockUpstream> = {};
  /** Every attempt's end, in order. */
  readonly attempts: AttemptEvent[] = [];
  /** Faults injected, by spec, per mock. */
  readonly injected: Record<string, Record<string, number>> = {};
  engine!: Engine;
  readonly #unsubscribe: Array<() => void> = [];

  static async start(o: ChaosOptions): Promise<Chaos> {
    const chaos = new Chaos();
    const urls: Record<string, string> = { refused: o.refusedUrl };
    for (const [name, spec] of Object.entries(o.mocks)) {
      const mock = await startMockUpstream({ record: false, ...spec.options, ...(spec.engineClock === true ? { clock: chaos.clock } : {}) });
      mock.setMaxListeners(0);
      chaos.mocks[name] = mock;
      urls[name] = mock.url;
      const counts: Record<string, number> = {};
      chaos.injected[name] = counts;
      const pick = spec.faults;
      if (pick !== undefined) {
        // The mock reads its fault right after announcing the request, so this one applies to exactly this request.
        mock.on("request", (req) => {
          const fault = pick(req);
          mock.setFault(fault, { times: 1 });
          const key = fault ?? "none";
          counts[key] = (counts[key] ?? 0) + 1;
        });
      }
    }
    const config = resolveConfig(o.config(urls), { env: {}, source: "chaos" });
    chaos.engine = new Engine(config, { clock: chaos.clock, random: seededRandom(o.seed) });
    chaos.#observe();
    return chaos;
  }

  #observe(): void {
    const gateway = this.engine;
    const onEnd = (m: unknown) => {
      const e = m as AttemptEnd;
      if (e.gateway === gateway) this.attempts.push({ target: e.target, code: e.error?.code });
    };
    subscribe("switchyard:attempt:end", onEnd);
    this.#unsubscribe.push(() => unsubscribe("switchyard:attempt:end", onEnd));
  }

  /** Attempts per target, and how many of them failed. */
  attemptsByTarget(): Record<string, { attempts: number; failed: number }> {
    const out: Record<string, { attempts: number; failed: number }> = {};
    for (const a of this.attempts) {
      const t = (out[a.target] ??= { attempts: 0, failed: 0 });
      t.attempts++;
      if (a.code !== undefined) t.failed++;
    }
    return out;
  }

  /** One request, read to its end (a stream to its last event). */
  async send(model: string, stream: boolean): Promise<Outcome> {
    const body = { model, stream, messages: [{ role: "user", content: "chaos" }] };
    let result;
    try {
      result = await this.engine.handle("chat", body, { requestId: this.engine.newRequestId() });
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      const failed: Outcome = { model, stream, ok: false, status: err.status, code: err.code, message: err.message, attempts: err.attempts ?? [] };
      if (err.retryAfterMs !== undefined) failed.retryAfterMs = err.retryAfterMs;
      return failed;
    }
    const base = { model, stream, status: result.status, target: result.target, attempts: result.attempts };
    if (result.stream === undefined) {
      const json = JSON.parse(result.body!.toString("utf8")) as { choices?: unknown[] };
      return { ...base, ok: result.status === 200 && Array.isArray(json.choices) && json.choices.length > 0 };
    }
    let text = "";
    try {
      for await (const chunk of result.stream) text += Buffer.from(chunk).toString("utf8");
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      return { ...base, ok: false, code: err.code, message: err.message };
    }
    return { ...base, ok: text.trimEnd().endsWith("data: [DONE]") && !text.includes('data: {"error"') };
  }

  /**
   * Sends every request, `concurrency` at a time, and answers each one's
   * outcome in the same order. The engine's clock moves `tickMs` before each
   * request is sent, so windows slide, budgets refill and pauses end as they
   * would at that request rate.
   */
  async run(requests: Array<{ model: string; stream: boolean }>, concurrency: number, tickMs = 0): Promise<Outcome[]> {
    const out: Outcome[] = new Array(requests.length);
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const i = next++;
        if (tickMs > 0) this.clock.advance(tickMs);
        out[i] = await this.send(requests[i].model, requests[i].stream);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return out;
  }

  async close(): Promise<void> {
    for (const stop of this.#unsubscribe) stop();
    await this.engine.close();
    for (const mock of Object.values(this.mocks)) await mock.close();
  }
}

/** The resources keeping this process alive, by type (sockets, servers, timers …). */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/**
 * What is open now beyond `baseline`, once closing sockets have had their
 * turns of the event loop to go (closes are reported asynchronously; no
 * time is waited, only turns).
 */
export async function leftOpen(baseline: Record<string, number>, turns = 200): Promise<Record<string, number>> {
  let extra: Record<string, number> = {};
  for (let i = 0; i < turns; i++) {
    extra = {};
    for (const [type, n] of Object.entries(activeResources())) if (n > (baseline[type] ?? 0)) extra[type] = n - (baseline[type] ?? 0);
    if (Object.keys(extra).length === 0) return extra;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return extra;
}
