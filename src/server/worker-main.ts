import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { PortStore } from "../state/port-store.ts";
import type { GatewayConfig } from "../config/types.ts";
import { Engine } from "../engine/gateway.ts";
import { createLogger } from "../telemetry/logger.ts";
import { createHttpServer, listen } from "./http.ts";
import { shutdown } from "./shutdown.ts";

/** One worker thread: its own engine and HTTP server on the shared port, counters in shared memory. */
export interface WorkerData {
  config: GatewayConfig;
  counters: SharedArrayBuffer;
  index: number;
  port: number;
  /** The main thread's Store, shared by every worker. */
  store: MessagePort;
}

const data = workerData as WorkerData;
const logger = createLogger(data.config.server.logLevel);
const store = new PortStore(data.store);
const engine = new Engine(data.config, { logger, sharedCounters: data.counters, store });
const server = createHttpServer(engine, logger);
// Ahead of the API handler, so every response it writes names the worker that served it.
const worker = String(data.index);
server.prependListener("request", (_req, res) => res.setHeader("x-switchyard-worker", worker));
const running = await listen(server, data.config.server.host, data.port, { reusePort: true });
parentPort!.postMessage({ type: "listening", url: running.url });
parentPort!.on("message", async (msg: unknown) => {
  if (msg !== "stop") return;
  await shutdown(running, engine);
  await store.close();
  parentPort!.close();
});
