/**
 * `GET /metrics` across worker threads. With `server.workers`, the kernel
 * hands each scrape to one worker, whose own counters alone would make a
 * scraper's rates jump between workers. So a worker asked for /metrics asks
 * the main thread, which collects every worker's series (prom-client's JSON),
 * merges them (AggregatorRegistry: counts add up, what the workers share is
 * taken once) and answers with the text. A worker that does not answer within
 * WAIT_MS is left out. `/v1/metrics` and `/v1/health` stay per worker.
 */
import type { MessagePort, Worker } from "node:worker_threads";
import { AggregatorRegistry } from "prom-client";

/** How long the main thread waits for each worker's series. */
export const WAIT_MS = 2_000;

type Message =
  | { type: "metrics:collect"; id: number }
  | { type: "metrics:get"; id: number }
  | { type: "metrics:json"; id: number; metrics: unknown[] }
  | { type: "metrics:text"; id: number; text?: string; error?: string };

const isMessage = (m: unknown): m is Message => typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string" && (m as { type: string }).type.startsWith("metrics:");

let nextRound = 0;

/** Main thread: answers `worker`'s requests for everyone's metrics. `all` gives the workers alive now. */
export function relayWorkerMetrics(worker: Worker, all: () => Iterable<Worker>): void {
  worker.on("message", (m: unknown) => {
    if (!isMessage(m) || m.type !== "metrics:collect") return;
    void gather([...all()]).then(
      (text) => worker.postMessage({ type: "metrics:text", id: m.id, text } satisfies Message),
      (err: Error) => worker.postMessage({ type: "metrics:text", id: m.id, error: err.message } satisfies Message),
    );
  });
}

async function gather(workers: Worker[]): Promise<string> {
  const round = ++nextRound;
  const answers = await Promise.all(
    workers.map(
      (w) =>
        new Promise<unknown[] | undefined>((resolve) => {
          const done = (v: unknown[] | undefined) => {
            clearTimeout(timer);
            w.off("message", onMessage);
            w.off("exit", onExit);
            resolve(v);
          };
          const onMessage = (m: unknown) => {
            if (isMessage(m) && m.type === "metrics:json" && m.id === round) done(m.metrics);
          };
          const onExit = () => done(undefined);
          const timer = setTimeout(() => done(undefined), WAIT_MS);
          w.on("message", onMessage);
          w.on("exit", onExit);
          w.postMessage({ type: "metrics:get", id: round } satisfies Message);
        }),
    ),
  );
  const present = answers.filter((a): a is unknown[] => a !== undefined);
  return AggregatorRegistry.aggregate(present as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
}

/**
 * Worker thread: serves the main thread's requests for this worker's series
 * (`snapshot`), and returns the function that asks for everyone's, merged.
 */
export function workerMetrics(port: MessagePort, snapshot: () => Promise<unknown[]>): () => Promise<string> {
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let next = 0;
  port.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === "metrics:get") {
      void snapshot().then(
        (metrics) => port.postMessage({ type: "metrics:json", id: m.id, metrics } satisfies Message),
        () => port.postMessage({ type: "metrics:json", id: m.id, metrics: [] } satisfies Message),
      );
    } else if (m.type === "metrics:text") {
      const w = waiting.get(m.id);
      if (w === undefined) return;
      waiting.delete(m.id);
      if (m.text !== undefined) w.resolve(m.text);
      else w.reject(new Error(`collecting the workers' metrics failed: ${m.error ?? "no answer"}`));
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      port.postMessage({ type: "metrics:collect", id } satisfies Message);
    });
}
