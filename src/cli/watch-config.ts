import { watch } from "node:fs";
import { dirname, basename } from "node:path";
import type { Logger } from "../telemetry/log.ts";
import { type Clock, systemClock } from "../time/clock.ts";

/** Editors write a file in several steps (truncate, write, rename): one reload after the last. */
export const WATCH_DEBOUNCE_MS = 300;

/**
 * Calls `onChange` once the config file has stopped changing for a moment
 * (server.watch_config). The directory is watched, not the file, so that an
 * editor's save by rename is seen too. Returns the function that stops it.
 */
export function watchConfig(file: string, onChange: () => void, logger: Logger, clock: Clock = systemClock, debounceMs = WATCH_DEBOUNCE_MS): () => void {
  const name = basename(file);
  let timer: unknown;
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = undefined;
      logger.info({ config: file }, "config file changed; reloading");
      onChange();
    }, debounceMs);
  });
  watcher.on("error", (err) => logger.warn({ err: err.message, config: file }, "cannot watch the config file"));
  watcher.unref();
  return () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    watcher.close();
  };
}
