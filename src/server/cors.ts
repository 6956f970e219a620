import type { IncomingMessage, ServerResponse } from "node:http";
import type { CorsConfig } from "../config/types.ts";

/** What a browser script may read of a response besides the safelisted headers. */
const EXPOSED = "x-request-id, x-switchyard-target, x-switchyard-attempts, retry-after";

export interface Cors {
  /** Adds the CORS headers to an ordinary response when its origin is allowed. */
  apply(req: IncomingMessage, res: ServerResponse): void;
  /** Answers a preflight (OPTIONS with Access-Control-Request-Method); false when it is not one. */
  preflight(req: IncomingMessage, res: ServerResponse, allow: string): boolean;
}

/**
 * Cross-origin access for browser apps, off unless `server.cors` lists
 * origins. Only allowed origins get any CORS header back, so a page from
 * elsewhere cannot read answers; gateway keys are still required when set.
 */
export function corsFor(config: CorsConfig | undefined): Cors | undefined {
  if (config === undefined) return undefined;
  const any = config.origins.includes("*");
  const origins = new Set(config.origins);
  const maxAge = String(Math.round(config.maxAge / 1000));
  const allowed = (origin: string | undefined): origin is string => origin !== undefined && (any || origins.has(origin));
  return {
    apply(req, res) {
      const origin = req.headers.origin;
      res.appendHeader("vary", "Origin");
      if (!allowed(origin)) return;
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", EXPOSED);
    },
    preflight(req, res, allow) {
      const method = req.headers["access-control-request-method"];
      if (req.method !== "OPTIONS" || method === undefined) return false;
      const origin = req.headers.origin;
      const headers: Record<string, string> = { vary: "Origin, Access-Control-Request-Headers", allow };
      if (allowed(origin)) {
        headers["access-control-allow-origin"] = origin;
        headers["access-control-allow-methods"] = allow;
        // Any request header may be sent (SDKs add their own); the key check still applies to the real request.
        const asked = req.headers["access-control-request-headers"];
        if (asked !== undefined) headers["access-control-allow-headers"] = asked;
        headers["access-control-max-age"] = maxAge;
      }
      res.writeHead(204, headers);
      res.end();
      return true;
    },
  };
}
