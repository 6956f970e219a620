import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError } from "../config/problems.ts";
import type { Engine } from "../engine/gateway.ts";
import type { Switch } from "../engine/switches.ts";
import { GatewayError } from "../protocol/errors.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { type AdminControl, localControl } from "./admin-control.ts";
import { maskedConfig } from "./admin-config.ts";
import { adminGuard } from "./admin-auth.ts";
import { openaiError } from "./errors.ts";
import { fail, json, toGatewayError } from "./respond.ts";
import { openaiShape } from "./shapes.ts";

/** Serves one request under /admin; resolves once it is answered. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;

const ACTIONS: Record<string, Switch | "enabled"> = { disable: "disabled", enable: "enabled", drain: "draining" };

/** A path segment, decoded: model names may hold slashes, sent encoded ("%2F") or not. */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GatewayError("SY_ERR_BAD_REQUEST", `"${segment.slice(0, 100)}" in the path is not valid percent-encoding`);
  }
}

function allow(req: IncomingMessage, res: ServerResponse, method: string, path: string): void {
  if (req.method === method || (method === "GET" && req.method === "HEAD")) return;
  res.setHeader("allow", method === "GET" ? "GET, HEAD" : method);
  throw new GatewayError("SY_ERR_METHOD_NOT_ALLOWED", `method ${req.method} is not allowed on ${path}; use ${method}`);
}

/**
 * The admin API, behind server.admin_key (admin-auth.ts):
 *
 * - GET  /admin/targets: every provider and target with its state, breaker and in-flight count
 * - POST /admin/providers/{name}/{disable|enable|drain}
 * - POST /admin/targets/{provider}/{model}/{disable|enable|drain}
 * - POST /admin/breakers/{provider}[/{model}]/reset
 * - GET  /admin/config: the effective config, secrets masked
 * - POST /admin/reload: load and validate the config again, then apply it
 */
export function adminRoutes(engine: Engine, logger: Logger = silentLogger, control: AdminControl = localControl(engine, logger)): AdminHandler {
  const guard = adminGuard(engine.config.server);

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    guard(req, res);
    const parts = path.split("/").filter((p) => p !== "").slice(1).map(decode);
    const [head, ...rest] = parts;
    if (head === "targets" && rest.length === 0) {
      allow(req, res, "GET", path);
      return json(res, 200, await engine.adminTargets());
    }
    if (head === "config" && rest.length === 0) {
      allow(req, res, "GET", path);
      return json(res, 200, maskedConfig(engine.config));
    }
    if (head === "reload" && rest.length === 0) {
      allow(req, res, "POST", path);
      return reload(res);
    }
    const action = rest.at(-1)!;
    if (head === "providers" && rest.length === 2 && action in ACTIONS) {
      allow(req, res, "POST", path);
      const name = await control.setSwitch(rest[0], undefined, ACTIONS[action]);
      return json(res, 200, { provider: name, state: ACTIONS[action] });
    }
    if (head === "targets" && rest.length >= 3 && action in ACTIONS) {
      allow(req, res, "POST", path);
      const name = await control.setSwitch(rest[0], rest.slice(1, -1).join("/"), ACTIONS[action]);
      return json(res, 200, { target: name, state: ACTIONS[action] });
    }
    if (head === "breakers" && rest.length >= 2 && action === "reset") {
      allow(req, res, "POST", path);
      const model = rest.length > 2 ? rest.slice(1, -1).join("/") : undefined;
      const had = await control.resetBreaker(rest[0], model);
      const name = model === undefined ? rest[0] : `${rest[0]}/${model}`;
      return json(res, 200, { breaker: name, state: "closed", had_breaker: had });
    }
    throw new GatewayError(
      "SY_ERR_NOT_FOUND",
      `no admin route for ${req.method} ${path.slice(0, 200)}; see GET /admin/targets, GET /admin/config, POST /admin/reload, ` +
        "POST /admin/{providers/NAME|targets/PROVIDER/MODEL}/{disable|enable|drain}, POST /admin/breakers/{PROVIDER|PROVIDER/MODEL}/reset",
    );
  };

  const reload = async (res: ServerResponse): Promise<void> => {
    try {
      const report = await control.reload();
      json(res, 200, { status: "reloaded", source: report.source, needs_restart: report.needsRestart, dropped_switches: report.droppedSwitches });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // The problems as a list beside the usual error object, so a script can show them one per line.
      const message = `config rejected, the old one keeps serving: ${err.problems.join("; ")}`;
      json(res, 400, { error: { ...openaiError(new GatewayError("SY_ERR_BAD_REQUEST", message)), problems: err.problems } });
    }
  };

  return async (req, res, path) => {
    try {
      await route(req, res, path);
    } catch (err) {
      const e = toGatewayError(err);
      if (e.code === "SY_ERR_INTERNAL") logger.error({ err }, "admin request failed");
      fail(res, e, openaiShape);
    }
  };
}
