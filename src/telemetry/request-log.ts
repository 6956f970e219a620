import { observeGateway, type RequestEnd } from "./channels.ts";
import type { Logger } from "./log.ts";

/**
 * Logs the end of each request of `gateway`: failures at warn (a client that
 * went away is not a failure of the gateway), the rest at debug. Returns the
 * unsubscribe function.
 */
export function logRequests(log: Logger, gateway: object): () => void {
  const onEnd = (e: RequestEnd) => {
    const failed = e.code !== undefined && e.code !== "SY_ERR_CLIENT_ABORT";
    // Successes are debug lines: at the usual info level, nothing is built for them.
    if (!failed && log.isLevelEnabled?.("debug") === false) return;
    const line = {
      reqId: e.requestId,
      model: e.model,
      target: e.target,
      status: e.status,
      code: e.code,
      attempts: e.attempts,
      stream: e.stream,
      ms: Math.round(e.durationMs * 10) / 10,
    };
    if (failed) log.warn(line, e.message ?? "request failed");
    else log.debug(line, "request");
  };
  return observeGateway(gateway, { requestEnd: onEnd });
}
