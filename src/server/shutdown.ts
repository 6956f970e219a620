import type { Engine } from "../engine/gateway.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import type { RunningServer } from "./http.ts";

/** After the grace period, how long the ended streams get to flush before their sockets are cut. */
const FLUSH_MS = 500;

/**
 * Stops a gateway gracefully: no new connections, idle ones closed at once,
 * /health answering 503 "draining" on connections still open, and requests
 * under way (streams too) allowed `graceMs` (server.shutdown_timeout) to
 * finish. What is still running then is ended by the engine (streams get a
 * final `SY_ERR_SHUTTING_DOWN` error event instead of being cut mid-event),
 * and any connection left after a short flush is closed.
 */
export async function shutdown(
  running: RunningServer,
  engine: Engine,
  graceMs = engine.config.server.shutdownTimeout,
  clock: Clock = systemClock,
): Promise<void> {
  const { server } = running;
  engine.draining = true;
  const closed = new Promise<"closed">((resolve) => server.close(() => resolve("closed")));
  server.closeIdleConnections();
  let graceTimer: unknown;
  const graceOver = new Promise<"grace over">((resolve) => {
    graceTimer = clock.setTimeout(() => resolve("grace over"), graceMs);
  });
  if ((await Promise.race([closed, graceOver])) === "grace over") {
    engine.abortInFlight();
    // The responses just ended leave keep-alive connections idle: close those, then cut the rest.
    setImmediate(() => server.closeIdleConnections());
    const cut = clock.setTimeout(() => server.closeAllConnections(), FLUSH_MS);
    await closed;
    clock.clearTimeout(cut);
  }
  clock.clearTimeout(graceTimer);
  await engine.close();
}
