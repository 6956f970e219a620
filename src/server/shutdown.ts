import type { Engine } from "../engine/gateway.ts";
import type { RunningServer } from "./http.ts";

/** How long requests under way may run on after a stop signal. */
export const SHUTDOWN_GRACE_MS = 2000;
/** After the grace period, how long the ended streams get to flush before their sockets are cut. */
const FLUSH_MS = 500;

/**
 * Stops a gateway gracefully: no new connections, idle ones closed at once,
 * requests under way allowed `graceMs` to finish. What is still running then
 * is ended by the engine (streams get a final `SY_ERR_SHUTTING_DOWN` error
 * event instead of being cut mid-event), and any connection left after a
 * short flush is closed.
 */
export async function shutdown(running: RunningServer, engine: Engine, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  const { server } = running;
  const closed = new Promise<"closed">((resolve) => server.close(() => resolve("closed")));
  server.closeIdleConnections();
  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<"grace over">((resolve) => {
    graceTimer = setTimeout(() => resolve("grace over"), graceMs);
  });
  if ((await Promise.race([closed, graceOver])) === "grace over") {
    engine.abortInFlight();
    // The responses just ended leave keep-alive connections idle: close those, then cut the rest.
    setImmediate(() => server.closeIdleConnections());
    const cut = setTimeout(() => server.closeAllConnections(), FLUSH_MS);
    await closed;
    clearTimeout(cut);
  }
  clearTimeout(graceTimer);
  await engine.close();
}
