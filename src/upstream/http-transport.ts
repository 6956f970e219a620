import { Pool } from "undici";
import type { ProviderConfig, Timeouts } from "../config/types.ts";
import type { UpstreamCall } from "../providers/types.ts";
import { DispatchCall } from "./dispatch-call.ts";
import type { Transport, UpstreamResponse } from "./transport.ts";

/** What one origin's pool is built with, reconciled from every provider on that origin. */
export interface PoolPlan {
  origin: string;
  /** The providers sharing the pool, in config order. */
  providers: string[];
  connections: number;
  keepAliveTimeout: number;
  http2: boolean;
  connectTimeout: number;
  /** Whether the providers asked for different settings. */
  differs: boolean;
}

/** Where a reconciled pool is reported; the engine's logger fits. */
export interface PoolWarnings {
  warn(obj: object, msg?: string): void;
}

/**
 * Groups the providers that call over HTTP by origin. Settings that differ are
 * resolved towards the more generous one, so that no provider gets less than
 * it asked for: the largest pool.connections, the longest keep-alive and
 * connect timeout, and HTTP/2 when any of them allows it.
 */
export function planPools(providers: Iterable<ProviderConfig>): Map<string, PoolPlan> {
  const plans = new Map<string, PoolPlan>();
  for (const p of providers) {
    if (p.type === "demo") continue;
    const origin = new URL(p.baseUrl).origin;
    const plan = plans.get(origin);
    if (plan === undefined) {
      plans.set(origin, {
        origin,
        providers: [p.name],
        connections: p.pool.connections,
        keepAliveTimeout: p.pool.keepAliveTimeout,
        http2: p.pool.http2,
        connectTimeout: p.timeouts.connect,
        differs: false,
      });
      continue;
    }
    plan.providers.push(p.name);
    plan.differs ||=
      p.pool.connections !== plan.connections ||
      p.pool.keepAliveTimeout !== plan.keepAliveTimeout ||
      p.pool.http2 !== plan.http2 ||
      p.timeouts.connect !== plan.connectTimeout;
    plan.connections = Math.max(plan.connections, p.pool.connections);
    plan.keepAliveTimeout = Math.max(plan.keepAliveTimeout, p.pool.keepAliveTimeout);
    plan.http2 ||= p.pool.http2;
    plan.connectTimeout = Math.max(plan.connectTimeout, p.timeouts.connect);
  }
  return plans;
}

const samePlan = (a: PoolPlan, b: PoolPlan): boolean =>
  a.connections === b.connections && a.keepAliveTimeout === b.keepAliveTimeout && a.http2 === b.http2 && a.connectTimeout === b.connectTimeout;

/**
 * One keep-alive undici pool per upstream origin, shared by every request to
 * that origin. The registry is planned from the whole provider list before any
 * pool exists, because a pool's size cannot change once it is built.
 */
export class PoolRegistry {
  readonly #plans: Map<string, PoolPlan>;
  readonly #pools = new Map<string, Pool>();

  constructor(providers: Iterable<ProviderConfig>, warnings?: PoolWarnings) {
    this.#plans = planPools(providers);
    for (const plan of this.#plans.values()) {
      if (!plan.differs) continue;
      const { differs: _, ...chosen } = plan;
      warnings?.warn(
        chosen,
        `providers ${plan.providers.join(", ")} share the pool to ${plan.origin} but set it up differently; ` +
          `it uses ${plan.connections} connections, keep-alive ${plan.keepAliveTimeout} ms, ` +
          `connect timeout ${plan.connectTimeout} ms, HTTP/2 ${plan.http2 ? "allowed" : "off"}`,
      );
    }
  }

  /** The pool to `origin`, built on first use from its plan. */
  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool !== undefined) return pool;
    const plan = this.#plans.get(origin);
    if (plan === undefined) throw new Error(`no provider was planned for ${origin}`);
    pool = new Pool(origin, {
      connections: plan.connections,
      keepAliveTimeout: plan.keepAliveTimeout,
      keepAliveMaxTimeout: Math.max(plan.keepAliveTimeout, 1000),
      connect: { timeout: plan.connectTimeout },
      allowH2: plan.http2,
      pipelining: 1,
    });
    this.#pools.set(origin, pool);
    return pool;
  }

  /**
   * Takes over the pools `previous` has built to origins planned the same way
   * here, so that a config reload keeps the connections to an upstream it
   * leaves as it was. They leave `previous`: closing it spares them.
   * Returns the origins taken over.
   */
  adopt(previous: PoolRegistry): string[] {
    const kept: string[] = [];
    for (const [origin, pool] of previous.#pools) {
      const mine = this.#plans.get(origin);
      const theirs = previous.#plans.get(origin);
      if (mine === undefined || theirs === undefined || this.#pools.has(origin) || !samePlan(mine, theirs)) continue;
      this.#pools.set(origin, pool);
      previous.#pools.delete(origin);
      kept.push(origin);
    }
    return kept;
  }

  /** The origins whose pool has been built. */
  built(): string[] {
    return [...this.#pools.keys()];
  }

  /** Each pool's connections and requests (undici's Pool.stats), by origin, for the metrics. */
  stats(): Map<string, { connected: number; free: number; pending: number; queued: number; running: number; size: number }> {
    const out = new Map<string, { connected: number; free: number; pending: number; queued: number; running: number; size: number }>();
    for (const [origin, pool] of this.#pools) {
      const { connected, free, pending, queued, running, size } = pool.stats;
      out.set(origin, { connected, free, pending, queued, running, size });
    }
    return out;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

/** Sends calls over a pool; first_byte and idle map onto undici's headers and body timeouts. */
export class HttpTransport implements Transport {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  send(call: UpstreamCall, signal: AbortSignal, timeouts: Timeouts): Promise<UpstreamResponse> {
    const handler = new DispatchCall(signal);
    this.#pool.dispatch(
      {
        path: call.path,
        method: call.method,
        headers: call.headers,
        body: call.body,
        headersTimeout: timeouts.firstByte,
        bodyTimeout: timeouts.idle,
      },
      handler,
    );
    return handler.response;
  }

  async close(): Promise<void> {
    // pools are owned by the registry
  }
}
