import type { IncomingMessage, ServerResponse } from "node:http";
import type { Engine } from "../engine/gateway.ts";
import { GatewayError } from "../protocol/errors.ts";
import type { Guard } from "./admin-auth.ts";
import { json } from "./respond.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * `GET /v1/cache/stats` (an operator's page, like /v1/metrics: the admin key
 * when one is set, else a gateway key) and
 * `DELETE /admin/cache[?model=NAME]` (behind the admin key). Both answer
 * with the cache off too: the stats then show it off, with the small caches
 * around routing still counted.
 */
export function cacheRoutes(engine: Engine, admin: Guard, operator: Guard | undefined): { stats: Handler; purge: Handler } {
  return {
    stats: async (req, res) => {
      operator?.(req, res);
      json(res, 200, engine.cacheStats());
    },
    purge: async (req, res) => {
      admin(req, res);
      const url = new URL(req.url!, "http://gateway");
      const model = url.searchParams.get("model") ?? undefined;
      if (model === "") throw new GatewayError("SY_ERR_BAD_REQUEST", "model must name a model, or be left out to purge everything", { param: "model" });
      const purged = engine.cache?.purge(model) ?? 0;
      json(res, 200, model === undefined ? { purged } : { purged, model });
    },
  };
}
