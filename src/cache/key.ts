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
 * The cache key of a request: SHA-256 over the operation (each client API
 * answers in its own bytes), the tenant when the cache is scoped by key,
 * and the request in canonical JSON without the fields in IGNORED. The
 * public model name is in the body. `form` separates streamed and whole
 * answers for operations whose answers cannot be converted between the two.
 */
export function cacheKey(op: string, body: Record<string, unknown>, tenant: string | undefined, form?: string): string {
  let text = `${op}\0${tenant ?? ""}\0${form ?? ""}\0{`;
  for (const k of Object.keys(body).sort()) {
    const v = body[k];
    if (v === undefined || IGNORED.has(k)) continue;
    text += `${JSON.stringify(k)}:${canonicalJson(v)},`;
  }
  // One-shot hashing of one string: a Hash object fed piece by piece costs a native call per piece.
  return hash("sha256", text, "base64url");
}
