import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerConfig } from "../config/types.ts";
import { GatewayError } from "../protocol/errors.ts";
import { type Authenticate, bearerToken, digest, headerKey } from "./auth.ts";

/** Checks a request to an operator's route; throws a GatewayError (401 or 403) when it may not pass. */
export type Guard = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The key an operator presents: `Authorization: Bearer KEY`, `x-admin-key: KEY`,
 * or a browser's Basic login with the key as its password (the user name is
 * not looked at), so that the dashboard opens in a browser with no extension.
 */
export function presentedAdminKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const bearer = bearerToken(auth);
  if (bearer !== undefined) return bearer;
  const basic = auth === undefined ? null : /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
  if (basic !== null) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  return headerKey(req.headers["x-admin-key"]);
}

/** A 401 whose challenge makes a browser ask for the login. */
function unauthorized(res: ServerResponse, message: string): GatewayError {
  res.setHeader("www-authenticate", 'Basic realm="switchyard admin", charset="UTF-8"');
  return new GatewayError("SY_ERR_UNAUTHORIZED", message);
}

/** Compares in constant time (as SHA-256 digests, so lengths do not show either). */
function keyCheck(key: string): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = digest(key);
  return (req, res) => {
    const presented = presentedAdminKey(req);
    if (presented === undefined) throw unauthorized(res, "missing admin key: send it as 'Authorization: Bearer <key>', 'x-admin-key: <key>', or as the password of a Basic login");
    if (!timingSafeEqual(digest(presented), expected)) throw unauthorized(res, "invalid admin key");
  };
}

/**
 * The admin API (`/admin/...`, which changes what the gateway does): the admin
 * key is required; without `server.admin_key` the admin API is off and
 * answers 403, whoever asks.
 */
export function adminGuard(settings: ServerConfig): Guard {
  if (settings.adminKey === undefined) {
    return () => {
      throw new GatewayError("SY_ERR_FORBIDDEN", "the admin API is off: set server.admin_key (or SWITCHYARD_ADMIN_KEY) to use it");
    };
  }
  return keyCheck(settings.adminKey);
}

/**
 * The operator's read-only pages (dashboard, metrics): the admin key when one
 * is set; otherwise a gateway key when gateway keys are set (the same key,
 * as a Basic password, works in a browser); otherwise open, like every other
 * route of a gateway without keys.
 */
export function operatorGuard(settings: ServerConfig, authenticate: Authenticate | undefined): Guard | undefined {
  if (settings.adminKey !== undefined) return keyCheck(settings.adminKey);
  if (authenticate === undefined) return undefined;
  return (req, res) => {
    const presented = presentedAdminKey(req);
    try {
      authenticate(presented === undefined ? req.headers : { authorization: `Bearer ${presented}` });
    } catch (err) {
      res.setHeader("www-authenticate", 'Basic realm="switchyard", charset="UTF-8"');
      throw err;
    }
  };
}
