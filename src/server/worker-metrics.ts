/**
 * The metrics across worker threads. With `server.workers`, the kernel hands
 * each request to one worker, whose own figures alone would make a scraper's
 * rates and a dashboard's charts jump between workers. So a worker asked for
 * them asks the main thread, which collects every worker's (this one's too)
 * and hands back: for `GET /metrics`, the Prometheus text merged by
 * prom-client's AggregatorRegistry (counts add up, what the workers share is
 * taken once); for `/v1/metrics` and `/v1/health`, each worker's statistics,
 * which the asking worker merges (telemetry/stats.ts mergeStats). A worker
 * that does not answer within WAIT_MS is left out.
 */
import type { MessagePort, Worker } from "node:worker_threads";
import { AggregatorRegistry } from "prom-client";
import type { StatsState } from "../telemetry/stats.ts";

/** How long the main thread waits for each worker's figures. */
export const WAIT_MS = 2_000;

type Kind = "prometheus" | "stats";

type Message =
  | { type: "metrics:collect"; id: number; kind: Kind }
  | { type: "metrics:get"; id: number; kind: Kind }
  | { type: "metrics:part"; id: number; data: unknown }
  | { type: "metrics:whole"; id: number; data?: unknown; error?: string };

const isMessage = (m: unknown): m is Message =>
  typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string" && (m as { type: string }).type.startsWith("metrics:");

let nextRound = 0;

/** Main thread: answers `worker`'s requests for everyone's figures. `all` gives the workers alive now. */
export function relayWorkerMetrics(worker: Worker, all: () => Iterable<Worker>): void {
  worker.on("message", (m: unknown) => {
    if (!isMessage(m) || m.type !== "metrics:collect") return;
    void gather([...all()], m.kind)
      .then((parts): unknown => (m.kind === "prometheus" ? prometheusText(parts) : parts))
      .then(
        (data) => worker.postMessage({ type: "metrics:whole", id: m.id, data } satisfies Message),
        (err: Error) => worker.postMessage({ type: "metrics:whole", id: m.id, error: err.message } satisfies Message),
      );
  });
}

function prometheusText(parts: unknown[]): Promise<string> {
  return AggregatorRegistry.aggregate(parts as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
}

/** Every worker's answer to a `metrics:get`, those that gave none left out. */
async function gather(workers: Worker[], kind: Kind): Promise<unknown[]> {
  const round = ++nextRound;
  const answers = await Promise.all(
    workers.map(
      (w) =>
        new Promise<unknown>((resolve) => {
          const done = (v: unknown) => {
            clearTimeout(timer);
            w.off("message", onMessage);
            w.off("exit", onExit);
            resolve(v);
          };
          const onMessage = (m: unknown) => {
            if (isMessage(m) && m.type === "metrics:part" && m.id === round) done(m.data);
          };
          const onExit = () => done(undefined);
          const timer = setTimeout(() => done(undefined), WAIT_MS);
          w.on("message", onMessage);
          w.on("exit", onExit);
          w.postMessage({ type: "metrics:get", id: round, kind } satisfies Message);
        }),
    ),
  );
  return answers.filter((a) => a !== undefined);
}

export interface WorkerSources {
  /** This worker's series as prom-client JSON. */
  prometheus(): Promise<unknown[]>;
  /** This worker's statistics. */
  stats(): Promise<StatsState>;
}

export interface AcrossWorkers {
  prometheus(): Promise<string>;
  stats(): Promise<StatsState[]>;
}

/** Worker thread: serves the main thread's requests for this worker's figures, and asks it for everyone's. */
export function workerMetrics(port: MessagePort, sources: WorkerSources): AcrossWorkers {
  const waiting = new Map<number, { resolve: (data: unknown) => void; reject: (err: Error) => void }>();
  let next = 0;
  port.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === "metrics:get") {
      const source = m.kind === "prometheus" ? sources.prometheus() : sources.stats();
      void source.then(
        (data) => port.postMessage({ type: "metrics:part", id: m.id, data } satisfies Message),
        () => port.postMessage({ type: "metrics:part", id: m.id, data: undefined } satisfies Message),
      );
    } else if (m.type === "metrics:whole") {
      const w = waiting.get(m.id);
      if (w === undefined) return;
      waiting.delete(m.id);
      if (m.error === undefined) w.resolve(m.data);
      else w.reject(new Error(`collecting the workers' metrics failed: ${m.error}`));
    }
  });
  const ask = (kind: Kind) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      port.postMessage({ type: "metrics:collect", id, kind } satisfies Message);
    });
  return { prometheus: () => ask("prometheus") as Promise<string>, stats: () => ask("stats") as Promise<StatsState[]> };
}
