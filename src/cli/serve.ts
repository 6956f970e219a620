import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { Engine } from "../engine/gateway.ts";
import { createHttpServer, listen } from "../server/http.ts";
import { createLogger } from "../telemetry/logger.ts";

export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string", short: "c" },
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "log-level": { type: "string" },
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
  if (values["log-level"] !== undefined) config.server.logLevel = values["log-level"] as typeof config.server.logLevel;
  const logger = createLogger(config.server.logLevel);
  const engine = new Engine(config, { logger });
  const running = await listen(createHttpServer(engine, logger), config.server.host, config.server.port);
  const models = engine.routes.names();
  logger.info(
    { url: running.url, config: config.source, providers: Object.keys(config.providers), models: models.slice(0, 20) },
    `switchyard listening on ${running.url}`,
  );
  // The URL matters (with --port 0 it is the only way to learn the port), so say it even when info is muted.
  if (!["info", "debug", "trace"].includes(config.server.logLevel)) process.stderr.write(`switchyard listening on ${running.url}\n`);
  const stop = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    await running.close();
    await engine.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
