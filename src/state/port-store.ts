import type { MessagePort } from "node:worker_threads";
import type { Store, WindowTake } from "./store.ts";

type Op = "incr" | "count" | "resetCount" | "get" | "set" | "compareAndSet" | "delete" | "windowTake";

interface Request {
  id: number;
  op: Op;
  args: unknown[];
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  /** The error's class, so a caller sees the RangeError the store threw. */
  name?: string;
}

const ERRORS: Record<string, new (m: string) => Error> = { RangeError, TypeError };

/**
 * A Store whose state lives in another thread: every call is sent over a
 * MessagePort to the thread that holds the one real store (`serveStore`),
 * which runs the calls one at a time, so they are exactly as atomic as that
 * store's. This is how `server.workers` share breakers, rate windows and
 * other Store state exactly instead of each keeping its own: a message round
 * trip per call, paid only when several workers run.
 */
export class PortStore implements Store {
  readonly #port: MessagePort;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on("message", (r: Reply) => {
      const w = this.#waiting.get(r.id);
      if (w === undefined) return;
      this.#waiting.delete(r.id);
      if (r.ok) w.resolve(r.value);
      else w.reject(new (ERRORS[r.name ?? ""] ?? Error)(r.error ?? "store call failed"));
    });
    // Outstanding calls keep the thread alive; an idle store does not.
    port.unref();
  }

  #call<T>(op: Op, args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      if (this.#waiting.size === 0) this.#port.ref();
      this.#waiting.set(id, {
        resolve: (v) => {
          if (this.#waiting.size === 0) this.#port.unref();
          resolve(v as T);
        },
        reject: (e) => {
          if (this.#waiting.size === 0) this.#port.unref();
          reject(e);
        },
      });
      this.#port.postMessage({ id, op, args } satisfies Request);
    });
  }

  incr(key: string, by: number, ttlMs: number): Promise<number> {
    return this.#call("incr", [key, by, ttlMs]);
  }
  count(key: string): Promise<number> {
    return this.#call("count", [key]);
  }
  resetCount(key: string): Promise<void> {
    return this.#call("resetCount", [key]);
  }
  get(key: string): Promise<string | undefined> {
    return this.#call("get", [key]);
  }
  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.#call("set", [key, value, ttlMs]);
  }
  compareAndSet(key: string, expected: string | undefined, next: string, ttlMs?: number): Promise<boolean> {
    return this.#call("compareAndSet", [key, expected, next, ttlMs]);
  }
  delete(key: string): Promise<void> {
    return this.#call("delete", [key]);
  }
  windowTake(key: string, cost: number, limit: number, windowMs: number): Promise<WindowTake> {
    return this.#call("windowTake", [key, cost, limit, windowMs]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiting.values()) w.reject(new Error("store is closed"));
    this.#waiting.clear();
    this.#port.close();
  }
}

/** Answers a PortStore's calls from `store`, in the order they arrive. */
export function serveStore(port: MessagePort, store: Store): void {
  port.on("message", (r: Request) => {
    const fn = (store[r.op] as (...a: unknown[]) => Promise<unknown>).bind(store);
    Promise.resolve()
      .then(() => fn(...r.args))
      .then(
      (value) => port.postMessage({ id: r.id, ok: true, value } satisfies Reply),
      (err: unknown) =>
        port.postMessage({ id: r.id, ok: false, error: err instanceof Error ? err.message : String(err), name: err instanceof Error ? err.name : undefined } satisfies Reply),
    );
  });
  port.unref();
}
