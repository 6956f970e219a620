import { hash } from "node:crypto";

/**
 * Request fields that never change an answer: how it is delivered (`stream`,
 * `stream_options`), who asked (`user`, `metadata`), and ids a client tags a
 * request with. Everything else does, or may, and separates entries.
 */
const IGNORED = new Set(["stream", "stream_options", "user", "metadata", "request_id", "store"]);

/** JSON with object keys sorted at every depth and no whitespace: equal meaning, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i] === undefined ? null : value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? "" : ","}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Appends the key text of one JSON value: an encoding that, like canonical
 * JSON, is equal for equal meaning (object keys in sorted order, undefined
 * members dropped) and different otherwise, but cheaper to build. Every
 * piece delimits itself: a string is its length and its text, unescaped (no
 * pass over its characters, and one copy, when the whole text is hashed); a
 * number ends with ";"; arrays and objects are bracketed, with no commas. A
 * string that is not well-formed UTF-16 (a lone surrogate, which UTF-8 would
 * turn into U+FFFD) goes in as JSON, which escapes it.
 */
function keyText(out: string, value: unknown): string {
  switch (typeof value) {
    case "string":
      return value.isWellFormed() ? `${out}s${value.length}:${value}` : `${out}j${JSON.stringify(value)}`;
    case "number":
      return `${out}n${value};`;
    case "boolean":
      return out + (value ? "t" : "f");
    case "object":
      break;
    default:
      return `${out}z`;
  }
  if (value === null) return `${out}z`;
  if (Array.isArray(value)) {
    out += "[";
    for (let i = 0; i < value.length; i++) out = keyText(out, value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = sortedKeys(obj);
  out += "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = obj[k];
    if (v === undefined) continue;
    out = keyText(name(out, k), v);
  }
  return `${out}}`;
}

/** Appends a member's name, delimited as a string value is. */
function name(out: string, k: string): string {
  return k.isWellFormed() ? `${out}${k.length}:${k}` : `${out}j${JSON.stringify(k)}`;
}

/** An object's own keys in sorted order; sorted only when they are not already. */
function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) return keys.sort();
  }
  return keys;
}

/**
 * The cache key of a request: SHA-256 over the operation (each client API
 * answers in its own bytes), the tenant when the cache is scoped by key,
 * and the request's key text (keyText above) without the fields in IGNORED.
 * The public model name is in the body. `form` separates streamed and whole
 * answers for operations whose answers cannot be converted between the two.
 * SHA-256 stays: a tenant's key is part of the hashed text, and entries of
 * different tenants must not be made to collide; with SHA extensions it is
 * also the quickest of node's hashes.
 */
export function cacheKey(op: string, body: Record<string, unknown>, tenant: string | undefined, form?: string): string {
  let text = `${op}\0${tenant ?? ""}\0${form ?? ""}\0{`;
  const keys = sortedKeys(body);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = body[k];
    if (v === undefined || IGNORED.has(k)) continue;
    text = keyText(name(text, k), v);
  }
  // One-shot hashing of one string: a Hash object fed piece by piece costs a native call per piece.
  return hash("sha256", text, "base64url");
}
