import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { PortStore } from "../state/port-store.ts";
import { ConfigError } from "../config/problems.ts";
import type { GatewayConfig } from "../config/types.ts";
import { Engine } from "../engine/gateway.ts";
import type { Switch } from "../engine/switches.ts";
import { GatewayError, type ErrorCode } from "../protocol/errors.ts";
import { loggerFor } from "../telemetry/logger.ts";
import type { AdminControl, ReloadReport } from "./admin-control.ts";
import type { Socket } from "node:net";
import { answerClientError } from "./client-errors.ts";
import { createHttpServer, listen } from "./http.ts";
import { shareMetricsAcrossWorkers } from "./metrics-routes.ts";
import { shutdown } from "./shutdown.ts";

/** One worker thread: its own engine and HTTP server on the shared port, counters in shared memory. */
export interface WorkerData {
  config: GatewayConfig;
  counters: SharedArrayBuffer;
  /** The counter slots by name, as the main thread gave them. */
  slots: Array<[string, number]>;
  /** The admin API's runtime switches in force when this worker starts. */
  switches: Array<[string, Switch]>;
  index: number;
  port: number;
  /** The main thread's Store, shared by every worker. */
  store: MessagePort;
}

/** What the main thread tells a worker; each but stop is answered with `done` and its id. */
export type ToWorker =
  | { type: "stop"; id: number }
  | { type: "reload"; id: number; config: GatewayConfig; slots: Array<[string, number]> }
  | { type: "switch"; id: number; provider: string; model: string | undefined; to: Switch | "enabled" }
  | { type: "admin-result"; id: number; value?: unknown; error?: { code?: string; message: string; problems?: string[] } };

/** What a worker tells the main thread. */
export type FromWorker =
  | { type: "listening"; url: string }
  | { type: "done"; id: number; value?: unknown }
  | { type: "admin"; id: number; action: "reload" | "switch"; provider?: string; model?: string; to?: Switch | "enabled" };

const data = workerData as WorkerData;
const logger = loggerFor(data.config);
const store = new PortStore(data.store);
const engine = new Engine(data.config, { logger, sharedCounters: data.counters, counterSlots: data.slots, store });
for (const [name, to] of data.switches) {
  const slash = name.indexOf("/");
  engine.setSwitch(slash === -1 ? name : name.slice(0, slash), slash === -1 ? undefined : name.slice(slash + 1), to);
}

/** Admin calls that change what every worker does go through the main thread, which applies them to all. */
let nextId = 0;
const asked = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
const ask = (msg: Omit<Extract<FromWorker, { type: "admin" }>, "id" | "type">): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    asked.set(id, { resolve, reject });
    parentPort!.postMessage({ type: "admin", id, ...msg } satisfies FromWorker);
  });
const control: AdminControl = {
  reload: async () => (await ask({ action: "reload" })) as ReloadReport,
  setSwitch: async (provider, model, to) => (await ask({ action: "switch", provider, model, to })) as string,
  // Breakers live in the Store every worker shares: one worker's reset is everyone's.
  resetBreaker: (provider, model) => engine.resetBreaker(provider, model),
};

const server = createHttpServer(engine, logger, control);
shareMetricsAcrossWorkers(engine, parentPort!);
// Ahead of the API handler, so every response it writes names the worker that served it.
const worker = String(data.index);
server.prependListener("request", (_req, res) => res.setHeader("x-switchyard-worker", worker));
// And the answers the HTTP parser's refusals get (400, 408, 431), written on the socket directly.
server.removeListener("clientError", answerClientError);
server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, `x-switchyard-worker: ${worker}\r\n`));
const running = await listen(server, data.config.server.host, data.port, { reusePort: true });
parentPort!.postMessage({ type: "listening", url: running.url } satisfies FromWorker);
parentPort!.on("message", async (msg: ToWorker) => {
  switch (msg.type) {
    case "stop":
      await shutdown(running, engine);
      await store.close();
      parentPort!.close();
      return;
    case "reload": {
      const value = engine.reload(msg.config, msg.slots);
      parentPort!.postMessage({ type: "done", id: msg.id, value } satisfies FromWorker);
      return;
    }
    case "switch": {
      engine.setSwitch(msg.provider, msg.model, msg.to);
      parentPort!.postMessage({ type: "done", id: msg.id } satisfies FromWorker);
      return;
    }
    case "admin-result": {
      const waiting = asked.get(msg.id);
      asked.delete(msg.id);
      if (msg.error === undefined) waiting?.resolve(msg.value);
      else if (msg.error.problems !== undefined) waiting?.reject(new ConfigError(msg.error.problems, "invalid config:"));
      else waiting?.reject(new GatewayError((msg.error.code ?? "SY_ERR_INTERNAL") as ErrorCode, msg.error.message));
      return;
    }
  }
});
