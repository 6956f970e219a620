/**
 * Watching a server from outside while load runs: a health probe whose
 * latency stands in for event-loop delay (the gateway does not report its
 * own), and a sampler of resident memory.
 */
import { Pool } from "undici";
import { rssBytes } from "./proc-stats.ts";
import { summarise } from "./stats.ts";
import type { LatencySummary } from "./stats.ts";

/**
 * GETs `url` back to back with `intervalMs` pauses over one kept-alive
 * connection. A server whose event loop is blocked answers late, so the
 * latency distribution bounds its event-loop delay from above (it also holds
 * one loopback round trip, ~0.1 ms).
 */
export class Probe {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #intervalMs: number;
  #samples: number[] = [];
  #errors = 0;
  #running: Promise<void> | undefined;
  #stop = false;

  constructor(url: string, intervalMs = 10) {
    const u = new URL(url);
    this.#pool = new Pool(u.origin, { connections: 1, keepAliveTimeout: 60_000 });
    this.#path = u.pathname;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#samples = [];
    this.#errors = 0;
    this.#stop = false;
    this.#running = this.#loop();
  }

  async stop(): Promise<{ latencyMs: LatencySummary; errors: number }> {
    this.#stop = true;
    await this.#running;
    return { latencyMs: summarise(this.#samples), errors: this.#errors };
  }

  async close(): Promise<void> {
    this.#stop = true;
    await this.#running;
    await this.#pool.destroy();
  }

  async #loop(): Promise<void> {
    while (!this.#stop) {
      const t0 = performance.now();
      try {
        const res = await this.#pool.request({ path: this.#path, method: "GET", headersTimeout: 5000, bodyTimeout: 5000 });
        await res.body.dump();
        this.#samples.push(performance.now() - t0);
      } catch {
        this.#errors++;
      }
      await new Promise((r) => setTimeout(r, this.#intervalMs));
    }
  }
}

/** Samples the RSS of a process tree every `intervalMs`; reports the peak and the mean. */
export class RssSampler {
  readonly #root: number;
  readonly #timer: NodeJS.Timeout;
  #peak = 0;
  #sum = 0;
  #n = 0;

  constructor(root: number, intervalMs = 200) {
    this.#root = root;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  stop(): { peakBytes: number; meanBytes: number } {
    clearInterval(this.#timer);
    this.#sample();
    return { peakBytes: this.#peak, meanBytes: this.#n === 0 ? Number.NaN : this.#sum / this.#n };
  }

  #sample(): void {
    const rss = rssBytes(this.#root);
    if (!Number.isFinite(rss)) return;
    this.#peak = Math.max(this.#peak, rss);
    this.#sum += rss;
    this.#n++;
  }
}
