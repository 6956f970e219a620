import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../config/schema.ts";
import { configWarnings } from "../config/warnings.ts";
import { Engine } from "../engine/gateway.ts";
import { exposureProblem } from "../server/auth.ts";
import { createHttpServer, listen } from "../server/http.ts";
import { type AdminControl, localControl } from "../server/admin-control.ts";
import { shutdown } from "../server/shutdown.ts";
import { watchConfig } from "./watch-config.ts";
import { startWorkers } from "../server/workers.ts";
import { loggerFor } from "../telemetry/logger.ts";
import { listenProblem } from "./listen-errors.ts";

export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string", short: "c" },
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      workers: { type: "string", short: "w" },
    },
    allowPositionals: false,
  });
  const config = await loadConfig({ path: values.config });
  if (values.host !== undefined) config.server.host = values.host;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: "${values.port}" is not a port number`);
    config.server.port = port;
  }
  if (values.workers !== undefined) {
    const workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers: "${values.workers}" is not a positive whole number`);
    config.server.workers = workers;
  }
  const level = values["log-level"];
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`--log-level: "${level}" is not one of ${LOG_LEVELS.join(", ")}`);
    config.server.logLevel = level as typeof config.server.logLevel;
  }
  const format = values["log-format"];
  if (format !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new Error(`--log-format: "${format}" is not one of ${LOG_FORMATS.join(", ")}`);
    config.server.logFormat = format as typeof config.server.logFormat;
  }
  const exposed = exposureProblem(config.server.host, config.server.auth);
  if (exposed !== undefined) throw new Error(exposed);
  const logger = loggerFor(config);
  // A promise nobody awaited must not take the gateway, and every request on it, down with it.
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled promise rejection"));
  for (const warning of configWarnings(config)) logger.warn({ config: config.source }, warning);
  const { host, port } = config.server;
  let url: string;
  let close: () => Promise<void>;
  let reload: (() => Promise<unknown>) | undefined;
  try {
    if (config.server.workers > 1) {
      const pool = await startWorkers(config, config.server.workers, logger);
      url = pool.url;
      reload = pool.reload;
      close = () => pool.close();
    } else {
      const engine = new Engine(config, { logger });
      try {
        const control: AdminControl = localControl(engine, logger);
        const running = await listen(createHttpServer(engine, logger, control), host, port);
        url = running.url;
        reload = control.reload;
        close = () => shutdown(running, engine);
      } catch (err) {
        await engine.close();
        throw err;
      }
    }
  } catch (err) {
    const problem = listenProblem(err, host, port);
    if (problem === undefined) throw err;
    throw new Error(problem);
  }
  logger.info(
    {
      url,
      config: config.source,
      workers: config.server.workers,
      auth: config.server.auth.keys.length > 0 ? config.server.auth.keys.map((k) => k.name) : "off",
      providers: Object.keys(config.providers),
      models: Object.keys(config.models).slice(0, 20),
      ...(config.telemetry?.tracing === undefined ? {} : { tracing: collectorOf(config.telemetry.tracing.url) }),
    },
    `switchyard listening on ${url}`,
  );
  // The URL matters (with --port 0 it is the only way to learn the port), so say it even when info is muted.
  if (!["info", "debug", "trace"].includes(config.server.logLevel)) process.stderr.write(`switchyard listening on ${url}\n`);
  // SIGHUP reloads the config (an invalid one is logged and the old one keeps serving).
  const onHup = () => void reload?.().catch(() => {});
  process.on("SIGHUP", onHup);
  const unwatch = reload !== undefined && config.server.watchConfig && config.source.startsWith("/") ? watchConfig(config.source, onHup, logger) : undefined;
  const stop = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    unwatch?.();
    await close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

/** Where spans go, without any credentials the URL may carry. */
function collectorOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
