import { hash } from "node:crypto";
import { endianness } from "node:os";
import { isStringOneByteRepresentation } from "node:v8";
import { MAX_JSON_DEPTH } from "../protocol/json-depth.ts";

/**
 * Request fields that never change an answer: how it is delivered (`stream`,
 * `stream_options`), who asked (`user`, `metadata`), and ids a client tags a
 * request with. Everything else does, or may, and separates entries.
 */
const IGNORED = new Set(["stream", "stream_options", "user", "metadata", "request_id", "store"]);

/**
 * JSON with object keys sorted at every depth and no whitespace: equal
 * meaning, equal text. Members named in `skip` are left out of the
 * outermost object only (the fields in IGNORED, for a request body).
 */
export function canonicalJson(value: unknown, skip?: ReadonlySet<string>): string {
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
    if (v === undefined || skip?.has(k)) continue;
    out += `${first ? "" : ","}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * A request's key in the cache file: SHA-256 over the operation (each
 * client API answers in its own bytes), the tenant's tag when the cache is
 * scoped by key, the form, and the body's canonical JSON without the fields
 * in IGNORED. Made only when an entry is written to the file; lookups in
 * memory go by fingerprint.
 */
export function cacheKey(op: string, body: Record<string, unknown>, tenant: string | undefined, form?: string): string {
  return hash("sha256", `${op}\0${tenant ?? ""}\0${form ?? ""}\0${canonicalJson(body, IGNORED)}`, "base64url");
}

/** Scratch for reading a number's bits without allocating. */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** Multiplies and folds: one step of mixing a 32-bit value. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Four FNV lanes folded into one hash. */
function fold(a: number, b: number, c: number, d: number): number {
  return mix(mix(mix(a) + Math.imul(b, 0x27d4eb2d)) + Math.imul(c, 0x165667b1)) ^ mix(d);
}

/** FNV-1a steps over units [from, to) of `s` in four lanes, each taking every fourth unit, so that the steps do not wait on each other. */
function lanes(h: number, s: string, from: number, to: number): number {
  let a = h;
  let b = h ^ 0x9e3779b9;
  let c = h ^ 0x85ebca6b;
  let d = h ^ 0xc2b2ae35;
  let i = from;
  for (; i + 3 < to; i += 4) {
    a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ s.charCodeAt(i + 1), 0x01000193);
    c = Math.imul(c ^ s.charCodeAt(i + 2), 0x01000193);
    d = Math.imul(d ^ s.charCodeAt(i + 3), 0x01000193);
  }
  for (; i < to; i++) a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
  return fold(a, b, c, d);
}

/** Strings this short are hashed a unit at a time: object keys, roles, model names. */
const SHORT = 32;
/**
 * Strings up to this many units are hashed whole, copied out in one call:
 * a copy costs a few nanoseconds a kilobyte, where reading the units one
 * at a time costs more than one each.
 */
const WHOLE = 4096;
/** Units hashed at each end of a longer string. */
const EDGE = 128;
/** Units sampled at most from the middle of a longer string, and the closest they are taken. */
const MIDDLE_SAMPLES = 256;
const MIN_STRIDE = 8;

/** Where a string is copied to be hashed (hashWhole); one per process, as the walk never nests a copy in another. */
const SCRATCH = Buffer.allocUnsafeSlow(WHOLE * 2);
const WORDS = new Int32Array(SCRATCH.buffer, SCRATCH.byteOffset, SCRATCH.length >> 2);

/** FNV-1a steps over the first `bytes` bytes of SCRATCH, four bytes a step in four lanes. */
function hashScratch(h: number, bytes: number): number {
  let a = h;
  let b = h ^ 0x9e3779b9;
  let c = h ^ 0x85ebca6b;
  let d = h ^ 0xc2b2ae35;
  const words = bytes >> 2;
  let i = 0;
  for (; i + 3 < words; i += 4) {
    a = Math.imul(a ^ WORDS[i], 0x01000193);
    b = Math.imul(b ^ WORDS[i + 1], 0x01000193);
    c = Math.imul(c ^ WORDS[i + 2], 0x01000193);
    d = Math.imul(d ^ WORDS[i + 3], 0x01000193);
  }
  for (; i < words; i++) a = Math.imul(a ^ WORDS[i], 0x01000193);
  for (let k = words << 2; k < bytes; k++) b = Math.imul(b ^ SCRATCH[k], 0x01000193);
  return fold(a, b, c, d);
}

/** The bits of a word of SCRATCH that hold its two UTF-16LE units' high bytes, as this machine reads words. */
const HIGH_BYTES = endianness() === "LE" ? 0xff00ff00 | 0 : 0x00ff00ff;

/** Whether the UTF-16LE units copied into the first `bytes` bytes of SCRATCH hold one of 256 or more. */
function wideUnits(bytes: number): boolean {
  let high = 0;
  const words = bytes >> 2;
  for (let i = 0; i < words; i++) high |= WORDS[i];
  return (high & HIGH_BYTES) !== 0 || ((bytes & 2) !== 0 && SCRATCH[bytes - 1] !== 0);
}

/**
 * Every unit of a string of up to WHOLE units: copied as one byte a unit
 * when every unit is below 256, else as two, so that equal strings hash
 * equally however V8 happens to hold them.
 */
function hashWhole(h: number, s: string): number {
  let bytes: number;
  if (isStringOneByteRepresentation(s)) bytes = SCRATCH.write(s, 0, "latin1");
  else {
    bytes = SCRATCH.write(s, 0, "utf16le");
    // Held as two bytes a unit but none needs two: hashed as a one-byte string of the same units would be.
    if (!wideUnits(bytes)) bytes = SCRATCH.write(s, 0, "latin1");
    else h ^= 0x2c;
  }
  return hashScratch(h, bytes);
}

/**
 * A string's hash from `h`: every unit of a string of up to WHOLE units;
 * of a longer one, its length, its first and last 128 units and at most
 * 256 units between, so that a miss costs the same for a 100 KB prompt as
 * for a 4 KB one. Two long strings that differ only between samples share
 * a hash; the cache confirms every match against the request's bytes, so
 * they never share an answer (they take turns in one entry).
 */
function hashString(h: number, s: string): number {
  const n = s.length;
  if (n <= SHORT) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return mix(h ^ n);
  }
  if (n <= WHOLE) return mix(hashWhole(h, s) ^ n);
  const end = n - EDGE;
  let x = lanes(h, s, 0, EDGE);
  const stride = Math.max(MIN_STRIDE, Math.ceil((end - EDGE) / MIDDLE_SAMPLES));
  for (let i = EDGE; i < end; i += stride) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  return mix(lanes(x, s, end, n) ^ n);
}

/** The fingerprint of one JSON value: objects by their members in any order, arrays in order. */
function valueHash(seed: number, v: unknown, depth: number): number {
  switch (typeof v) {
    case "string":
      return hashString(seed ^ 0x73, v);
    case "number":
      F64[0] = v === 0 ? 0 : v; // -0 and 0 mean the same
      return mix(Math.imul(U32[0] ^ seed, 0x9e3779b1) ^ U32[1]);
    case "boolean":
      return mix(seed ^ (v ? 0x74 : 0x66));
    case "object":
      break;
    default:
      return mix(seed ^ 0x7a);
  }
  if (v === null) return mix(seed ^ 0x7a);
  if (depth === 0) {
    tooDeep = true;
    return 0;
  }
  if (Array.isArray(v)) {
    let h = seed ^ 0x5b;
    for (let i = 0; i < v.length && !tooDeep; i++) h = mix(Math.imul(h, 31) + valueHash(seed, v[i] === undefined ? null : v[i], depth - 1));
    return mix(h ^ v.length);
  }
  return mix(membersHash(seed, v as Record<string, unknown>, false, depth - 1) ^ 0x7b);
}

/** The members of an object, summed so that their order does not count; undefined members (and, at the top, the ignored fields) left out. */
function membersHash(seed: number, obj: Record<string, unknown>, top: boolean, depth: number): number {
  let sum = 0;
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined || (top && IGNORED.has(k))) continue;
    sum = (sum + mix(hashString(seed, k) + Math.imul(valueHash(seed, v, depth), 0x27d4eb2d))) | 0;
    if (tooDeep) break;
  }
  return sum;
}

/** Set by a walk that met a value nested deeper than a request may be. */
let tooDeep = false;

/**
 * A request's fingerprint: a 31-bit number, equal for requests that mean
 * the same (the same operation, tenant and form, and bodies equal but for
 * key order, whitespace and the fields in IGNORED), and different otherwise
 * but for chance. Computed over the parsed body in one pass that allocates
 * nothing; `seed` (random per process) keeps it from being predicted. Equal
 * fingerprints are confirmed with sameRequest before an answer is shared.
 * Undefined for a body nested deeper than a request may be (MAX_JSON_DEPTH):
 * the walk stops there, and the engine refuses the request in its own words.
 */
export function fingerprint(seed: number, op: string, tenant: string, form: string, body: Record<string, unknown>): number | undefined {
  let h = hashString(seed, op);
  h = hashString(h, tenant);
  h = hashString(h, form);
  tooDeep = false;
  const members = membersHash(seed, body, true, MAX_JSON_DEPTH - 1);
  return tooDeep ? undefined : mix(h + members) >> 1;
}

/** The canonical JSON of a request's text without the fields in IGNORED. */
function canonicalRequest(text: string): string {
  return canonicalJson(JSON.parse(text), IGNORED);
}

/** Whether two request texts mean the same to an upstream: the same text, or equal but for key order, whitespace and the fields in IGNORED. */
export function sameRequest(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return canonicalRequest(a) === canonicalRequest(b);
  } catch {
    return false;
  }
}
