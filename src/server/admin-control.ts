import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../config/problems.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { Engine, ReloadResult } from "../engine/gateway.ts";
import type { Switch } from "../engine/switches.ts";
import type { Logger } from "../telemetry/log.ts";

/** What a reload reports: where the config came from, and what it could not apply. */
export interface ReloadReport extends ReloadResult {
  source: string;
}

/**
 * The admin API's actions that change the gateway. In one process they act
 * on the engine; with workers (worker-main.ts) the main thread applies them
 * to every worker, so that all serve alike.
 */
export interface AdminControl {
  /** Loads and validates the config again and applies it; throws ConfigError with the problems of an invalid one. */
  reload(): Promise<ReloadReport>;
  setSwitch(provider: string, model: string | undefined, to: Switch | "enabled"): Promise<string>;
  resetBreaker(provider: string, model: string | undefined): Promise<boolean>;
}

/**
 * Reads the config again from where it came from: its file, or (for a
 * config built from the environment) the environment. A config handed over
 * in code has nothing to be read again from.
 */
export async function reloadConfig(current: GatewayConfig): Promise<GatewayConfig> {
  const { source } = current;
  if (source === "defaults") return loadConfig();
  if (!source.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(source)) {
    throw new ConfigError([`the config came from "${source}", not a file: there is nothing to reload from`], "cannot reload:");
  }
  return loadConfig({ path: source });
}

/** Serialises calls: two reloads never overlap. */
export function oneAtATime<T>(fn: () => Promise<T>): () => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const next = last.then(fn, fn);
    last = next.catch(() => {});
    return next;
  };
}

/** The control of a gateway that runs in this one process. */
export function localControl(engine: Engine, logger: Logger): AdminControl {
  return {
    reload: oneAtATime(async () => {
      let config: GatewayConfig;
      try {
        config = await reloadConfig(engine.config);
      } catch (err) {
        if (err instanceof ConfigError) logger.error({ problems: err.problems }, "config reload rejected; the old config keeps serving");
        throw err;
      }
      const result = engine.reload(config);
      logReload(logger, config.source, result);
      return { source: config.source, ...result };
    }),
    setSwitch: async (provider, model, to) => engine.setSwitch(provider, model, to),
    resetBreaker: (provider, model) => engine.resetBreaker(provider, model),
  };
}

export function logReload(logger: Logger, source: string, result: ReloadResult): void {
  logger.info({ config: source, ...result }, "config reloaded");
  if (result.needsRestart.length > 0) logger.warn({ settings: result.needsRestart }, "these settings changed but need a restart; the running ones stay");
}
