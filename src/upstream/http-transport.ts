import { Pool } from "undici";
import type { PoolSettings, Timeouts } from "../config/types.ts";
import type { UpstreamCall } from "../providers/types.ts";
import { DispatchCall } from "./dispatch-call.ts";
import type { Transport, UpstreamResponse } from "./transport.ts";

/**
 * One keep-alive undici pool per upstream origin, shared by every request to
 * that origin. The first provider registered for an origin sets its pool size.
 */
export class PoolRegistry {
  readonly #pools = new Map<string, Pool>();

  get(origin: string, settings: PoolSettings, connectTimeout: number): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: settings.connections,
        keepAliveTimeout: settings.keepAliveTimeout,
        keepAliveMaxTimeout: Math.max(settings.keepAliveTimeout, 1000),
        connect: { timeout: connectTimeout },
        allowH2: settings.http2,
        pipelining: 1,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
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
