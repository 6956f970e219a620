/**
 * The chaos harness: an engine in front of several mock upstreams whose
 * faults the test decides request by request, a runner that keeps a fixed
 * number of requests in flight, and a record of every attempt per target.
 * Requests go to the engine itself (no HTTP front, so every socket left is
 * an upstream one), or with `http: true` through the HTTP front on a port of
 * its own, sent by the official OpenAI client as any client would.
 *
 * The engine runs on a fake clock: its deadlines, backoffs and Retry-After
 * waits move only when a test says so. Connect, first-byte and idle limits
 * are the HTTP client's own timers; where a fault needs one of them to fire,
 * the provider sets it short.
 */
import { randomUUID } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import OpenAI from "openai";
import { resolveConfig } from "../../src/config/load.ts";
import { Engine } from "../../src/engine/gateway.ts";
import { createHttpServer, listen, type RunningServer } from "../../src/server/http.ts";
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
  /** Through the HTTP front (a real server on port 0) rather than to the engine in process. */
  http?: boolean;
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
  /** The HTTP front and a client of it, with `http: true`. */
  front?: { running: RunningServer; client: OpenAI };
  readonly #unsubscribe: Array<() => void> = [];
  /** Each request's attempts as the attempt events tell them, by request id (the HTTP front sends only their count). */
  readonly #byRequest = new Map<string, AttemptRecord[]>();

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
    if (o.http === true) {
      const running = await listen(createHttpServer(chaos.engine), "127.0.0.1", 0);
      chaos.front = { running, client: new OpenAI({ baseURL: `${running.url}/v1`, apiKey: "chaos", maxRetries: 0, timeout: 600_000 }) };
    }
    return chaos;
  }

  #observe(): void {
    const gateway = this.engine;
    const onEnd = (m: unknown) => {
      const e = m as AttemptEnd;
      if (e.gateway !== gateway) return;
      this.attempts.push({ target: e.target, code: e.error?.code });
      if (this.front === undefined) return;
      const list = this.#byRequest.get(e.requestId) ?? [];
      list.push({ target: e.target, status: e.status, code: e.error?.code, message: e.error?.message ?? "ok", durationMs: e.durationMs });
      this.#byRequest.set(e.requestId, list);
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
    if (this.front !== undefined) return this.#sendHttp(this.front.client, model, stream);
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

  /** One request through the HTTP front, with the OpenAI client; its attempts from the attempt events. */
  async #sendHttp(client: OpenAI, model: string, stream: boolean): Promise<Outcome> {
    const requestId = randomUUID();
    const messages = [{ role: "user" as const, content: "chaos" }];
    const options = { headers: { "x-request-id": requestId } };
    const attempts = () => {
      const list = this.#byRequest.get(requestId) ?? [];
      this.#byRequest.delete(requestId);
      return list;
    };
    let target: string | undefined;
    try {
      if (!stream) {
        const { data, response } = await client.chat.completions.create({ model, messages }, options).withResponse();
        target = response.headers.get("x-switchyard-target") ?? undefined;
        return { model, stream, status: response.status, target, attempts: attempts(), ok: response.status === 200 && data.choices.length > 0 };
      }
      const { data, response } = await client.chat.completions.create({ model, messages, stream: true }, options).withResponse();
      target = response.headers.get("x-switchyard-target") ?? undefined;
      let chunks = 0;
      for await (const _chunk of data) chunks++;
      return { model, stream, status: response.status, target, attempts: attempts(), ok: chunks > 0 };
    } catch (err) {
      if (!(err instanceof OpenAI.APIError)) throw err;
      const body = err.error as { switchyard_code?: string; message?: string } | undefined;
      const failed: Outcome = { model, stream, ok: false, status: err.status ?? 0, code: body?.switchyard_code, message: body?.message ?? err.message, target, attempts: attempts() };
      const retryAfter = err.headers?.get("retry-after");
      if (retryAfter != null) failed.retryAfterMs = Number(retryAfter) * 1000;
      return failed;
    }
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
    await this.front?.running.close();
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
