import { MessageChannel, Worker } from "node:worker_threads";
import { serveStore } from "../state/port-store.ts";
import { MemoryStore } from "../state/store.ts";
import type { GatewayConfig } from "../config/types.ts";
import { limitSlots } from "../limits/index.ts";
import { Counters } from "../state/counters.ts";
import type { Logger } from "../telemetry/log.ts";
import type { WorkerData } from "./worker-main.ts";

export interface WorkerPool {
  url: string;
  /** The counters every worker shares (one slot per provider, in config order, then the concurrency limits'). */
  counters: Counters;
  close(): Promise<void>;
}

const ENTRY = new URL("./worker-main.ts", import.meta.url);

/**
 * Runs `n` worker threads serving one port (SO_REUSEPORT: the kernel spreads
 * connections across them). The first worker binds, so port 0 works; the rest
 * join its port. A worker that dies is replaced.
 */
export async function startWorkers(config: GatewayConfig, n: number, logger: Logger): Promise<WorkerPool> {
  const counters = Counters.shared(Object.keys(config.providers).length + limitSlots(config).length);
  // One Store for every worker (breakers, rate windows, budgets): each worker's calls come here over a port.
  const store = new MemoryStore();
  const workers = new Set<Worker>();
  let stopping = false;
  let port = config.server.port;

  const spawn = (index: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      serveStore(channel.port1, store);
      const data: WorkerData = { config, counters: counters.buffer as SharedArrayBuffer, index, port, store: channel.port2 };
      const worker = new Worker(ENTRY, { workerData: data, transferList: [channel.port2] });
      worker.once("exit", () => channel.port1.close());
      workers.add(worker);
      let ready = false;
      worker.on("message", (msg: { type: string; url: string }) => {
        if (msg.type !== "listening") return;
        ready = true;
        resolve(msg.url);
      });
      worker.on("error", (err) => {
        if (!ready) reject(err);
        else logger.error({ worker: index, err: err.message }, "worker failed");
      });
      worker.on("exit", (code) => {
        workers.delete(worker);
        if (stopping || !ready) return;
        logger.warn({ worker: index, code }, "worker exited; starting a new one");
        spawn(index).catch((err: Error) => logger.error({ worker: index, err: err.message }, "could not restart worker"));
      });
    });

  const url = await spawn(0);
  port = Number(new URL(url).port);
  await Promise.all(Array.from({ length: n - 1 }, (_, i) => spawn(i + 1)));
  return {
    url,
    counters,
    async close() {
      stopping = true;
      await Promise.all(
        [...workers].map(
          (w) =>
            new Promise<void>((done) => {
              w.once("exit", () => done());
              w.postMessage("stop");
              setTimeout(() => void w.terminate(), 5000).unref();
            }),
        ),
      );
    },
  };
}
