import { MessageChannel, Worker } from "node:worker_threads";
import { serveStore } from "../state/port-store.ts";
import { MemoryStore } from "../state/store.ts";
import { ConfigError } from "../config/problems.ts";
import type { GatewayConfig } from "../config/types.ts";
import { counterNames } from "../engine/generation.ts";
import { knownName, serverRestartKeys, Switches, type Switch } from "../engine/switches.ts";
import { GatewayError } from "../protocol/errors.ts";
import { Counters } from "../state/counters.ts";
import { SlotTable } from "../state/slot-table.ts";
import type { Logger } from "../telemetry/log.ts";
import { logReload, oneAtATime, type ReloadReport, reloadConfig } from "./admin-control.ts";
import type { FromWorker, ToWorker, WorkerData } from "./worker-main.ts";
import { relayWorkerMetrics } from "./worker-metrics.ts";

export interface WorkerPool {
  url: string;
  /** The counters every worker shares: one slot per name of `slots` (each provider's in flight, the concurrency limits'). */
  counters: Counters;
  /** Which slot belongs to which name; owned here, grown by reloads. */
  slots: SlotTable;
  /** Loads the config again, validates it, and has every worker apply it; throws ConfigError for an invalid one. */
  reload(): Promise<ReloadReport>;
  close(): Promise<void>;
}

const ENTRY = new URL("./worker-main.ts", import.meta.url);

/**
 * Runs `n` worker threads serving one port (SO_REUSEPORT: the kernel spreads
 * connections across them). The first worker binds, so port 0 works; the rest
 * join its port. A worker that dies is replaced.
 *
 * The main thread owns what the workers must agree on: the config (a reload
 * is validated here, then applied by every worker), the counter slots (given
 * by name, so that counts stay with their provider across reloads), and the
 * runtime switches of the admin API (a worker asked to switch a target tells
 * this thread, which tells them all).
 */
export async function startWorkers(config: GatewayConfig, n: number, logger: Logger, options: { entry?: URL } = {}): Promise<WorkerPool> {
  const entry = options.entry ?? ENTRY;
  /** Every worker made, ready or not: a start that fails ends them all. */
  const made = new Set<Worker>();
  const slots = new SlotTable().assign(counterNames(config));
  const counters = Counters.shared(slots.size);
  // One Store for every worker (breakers, rate windows, budgets): each worker's calls come here over a port.
  const store = new MemoryStore();
  const workers = new Set<Worker>();
  const switches = new Switches();
  let current = config;
  let stopping = false;
  let port = config.server.port;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Sends to every worker and resolves once each has answered. */
  const everyWorker = (msg: ToWorker extends infer T ? (T extends unknown ? Omit<T, "id"> : never) : never): Promise<unknown[]> =>
    Promise.all(
      [...workers].map(
        (w) =>
          new Promise<unknown>((resolve, reject) => {
            const id = nextId++;
            // A worker that exits meanwhile is replaced by one started from the current state.
            const gone = () => {
              waiting.delete(id);
              resolve(undefined);
            };
            w.once("exit", gone);
            waiting.set(id, {
              resolve: (v) => {
                w.off("exit", gone);
                resolve(v);
              },
              reject,
            });
            w.postMessage({ ...msg, id });
          }),
      ),
    );

  const reload = oneAtATime(async (): Promise<ReloadReport> => {
    let next: GatewayConfig;
    try {
      next = await reloadConfig(current);
    } catch (err) {
      if (err instanceof ConfigError) logger.error({ problems: err.problems }, "config reload rejected; the old config keeps serving");
      throw err;
    }
    const needsRestart = serverRestartKeys(current, next);
    // New providers and limits get new slots; the ones kept keep theirs.
    slots.assign(counterNames(next));
    counters.ensure(slots.size);
    const droppedSwitches = switches.carry(current, next);
    current = { ...next, server: { ...current.server, maxInFlight: next.server.maxInFlight } };
    if (current.server.maxInFlight === undefined) delete current.server.maxInFlight;
    await everyWorker({ type: "reload", config: current, slots: slots.entries() });
    const result = { needsRestart, droppedSwitches };
    logReload(logger, next.source, result);
    return { source: next.source, ...result };
  });

  const setSwitch = async (provider: string, model: string | undefined, to: Switch | "enabled"): Promise<string> => {
    const name = knownName(current, provider, model);
    switches.set(name, to);
    await everyWorker({ type: "switch", provider, model, to });
    return name;
  };

  /** A worker's admin call, done here for all of them; errors go back as a code and message. */
  const onAdmin = async (w: Worker, msg: Extract<FromWorker, { type: "admin" }>) => {
    try {
      const value = msg.action === "reload" ? await reload() : await setSwitch(msg.provider!, msg.model, msg.to!);
      w.postMessage({ type: "admin-result", id: msg.id, value } satisfies ToWorker);
    } catch (err) {
      const error =
        err instanceof ConfigError
          ? { problems: err.problems, message: err.message }
          : err instanceof GatewayError
            ? { code: err.code, message: err.message }
            : { code: "SY_ERR_INTERNAL", message: "internal error" };
      if (!(err instanceof ConfigError) && !(err instanceof GatewayError)) logger.error({ err }, "admin call failed");
      w.postMessage({ type: "admin-result", id: msg.id, error } satisfies ToWorker);
    }
  };

  const spawn = (index: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      serveStore(channel.port1, store);
      const data: WorkerData = {
        config: current,
        counters: counters.buffer as SharedArrayBuffer,
        slots: slots.entries(),
        switches: switches.entries(),
        index,
        port,
        store: channel.port2,
      };
      const worker = new Worker(entry, { workerData: data, transferList: [channel.port2] });
      made.add(worker);
      worker.once("exit", () => {
        made.delete(worker);
        channel.port1.close();
      });
      relayWorkerMetrics(worker, () => workers);
      let ready = false;
      worker.on("message", (msg: FromWorker) => {
        if (msg.type === "listening") {
          ready = true;
          workers.add(worker);
          resolve(msg.url);
        } else if (msg.type === "done") {
          const w = waiting.get(msg.id);
          waiting.delete(msg.id);
          w?.resolve(msg.value);
        } else if (msg.type === "admin") {
          void onAdmin(worker, msg);
        }
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

  let url: string;
  try {
    url = await spawn(0);
    port = Number(new URL(url).port);
    await Promise.all(Array.from({ length: n - 1 }, (_, i) => spawn(i + 1)));
  } catch (err) {
    // One worker could not start (its port taken, say): the others must not go on serving, nor keep the process alive.
    stopping = true;
    await Promise.all([...made].map((w) => w.terminate()));
    throw err;
  }
  return {
    url,
    counters,
    slots,
    reload,
    async close() {
      stopping = true;
      await Promise.all(
        [...workers].map(
          (w) =>
            new Promise<void>((done) => {
              w.once("exit", () => done());
              w.postMessage({ type: "stop", id: -1 } satisfies ToWorker);
              // Past the workers' own shutdown_timeout, a worker still running is ended.
              setTimeout(() => void w.terminate(), current.server.shutdownTimeout + 5000).unref();
            }),
        ),
      );
    },
  };
}
