import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { isIP } from "node:net";
import type { AuthConfig, GatewayKey } from "../config/types.ts";
import { GatewayError } from "../protocol/errors.ts";

/** Checks a request's headers; returns the key that matched, or throws a 401. */
export type Authenticate = (headers: IncomingHttpHeaders) => GatewayKey;

/** Keys are compared as SHA-256 digests, so that neither a wrong byte's position nor a length shows in the time taken. */
export const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return /^\s*bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/** A key header's value (`x-api-key`, `x-admin-key`), trimmed; undefined when absent or empty. */
export function headerKey(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value.trim() : undefined;
}

/**
 * Gateway keys, accepted as `Authorization: Bearer <key>` or `x-api-key: <key>`.
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, and every key is
 * compared on every request, so neither the position of a wrong byte nor which
 * key matched shows in the time taken. Returns undefined when no key is
 * configured: then nothing is checked and nothing is spent on it.
 */
export function authenticator(auth: AuthConfig): Authenticate | undefined {
  if (auth.keys.length === 0) return undefined;
  const keys = auth.keys.map((k) => ({ record: k, digest: digest(k.key) }));
  return (headers) => {
    const presented = presentedKey(headers);
    if (presented === undefined) {
      throw new GatewayError(
        "SY_ERR_UNAUTHORIZED",
        "missing gateway key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
      );
    }
    const d = digest(presented);
    let found: GatewayKey | undefined;
    for (const k of keys) if (timingSafeEqual(d, k.digest) && found === undefined) found = k.record;
    if (found === undefined) throw new GatewayError("SY_ERR_UNAUTHORIZED", "invalid gateway key");
    return found;
  };
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  return bearerToken(headers.authorization) ?? headerKey(headers["x-api-key"]);
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  return /^::ffff:127\./.test(h);
}

/**
 * A gateway listening beyond loopback without keys lets anyone who can reach
 * it spend its provider keys. Refuse to start that way unless the config says
 * it is meant.
 */
export function exposureProblem(host: string, auth: AuthConfig): string | undefined {
  if (auth.keys.length > 0 || auth.allowUnauthenticated || isLoopback(host)) return undefined;
  return (
    `refusing to listen on ${host} without gateway keys: anyone who can reach it could spend your provider keys. ` +
    "Set server.auth.keys (e.g. [ ${SWITCHYARD_API_KEY} ]), or server.auth.allow_unauthenticated: true if another layer guards it"
  );
}
