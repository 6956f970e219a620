/**
 * JSON Schema as Gemini's `parameters` and `responseSchema` take it: a subset
 * of OpenAPI 3.0's Schema object. Gemini refuses a request whose schema has
 * a key outside that subset, so tools written for OpenAI (with `$schema`,
 * `additionalProperties`, `$ref`, `const`, type arrays …) are rewritten here:
 * references are inlined, `const` becomes a one-value enum, a `null` member
 * of a type array or anyOf becomes `nullable`, `oneOf` reads as `anyOf`, a
 * single `allOf` is merged, and what has no equivalent is dropped.
 */

type Schema = Record<string, unknown>;

/** The keys of Gemini's Schema object (generativelanguage v1beta). */
const KEEP = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "maxItems",
  "minItems",
  "properties",
  "required",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "anyOf",
  "propertyOrdering",
  "default",
  "items",
  "minimum",
  "maximum",
]);

/** The formats Gemini accepts for each type; any other is refused, so it is dropped. */
const FORMATS: Record<string, ReadonlySet<string>> = {
  string: new Set(["enum", "date-time"]),
  number: new Set(["float", "double"]),
  integer: new Set(["int32", "int64"]),
};

/** Nesting beyond this (or a reference to itself) ends in a plain schema, not an endless expansion. */
const MAX_DEPTH = 32;

const isObject = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A tool's parameters as Gemini takes them; undefined for a function without
 * parameters (an object schema with no properties, which Gemini refuses).
 */
export function geminiParameters(schema: unknown): Schema | undefined {
  if (!isObject(schema)) return undefined;
  const out = cleanSchema(schema);
  if (out.type === "object" && !isObject(out.properties)) return undefined;
  return out;
}

/** Any JSON Schema as Gemini's Schema object. */
export function cleanSchema(schema: unknown): Schema {
  return isObject(schema) ? clean(schema, schema, [], 0) : {};
}

function clean(s: Schema, root: Schema, refs: string[], depth: number): Schema {
  if (depth > MAX_DEPTH) return plain(s);
  const next = (v: unknown, r: string[] = refs): Schema => (isObject(v) ? clean(v, root, r, depth + 1) : {});

  if (typeof s.$ref === "string") {
    const ref = s.$ref;
    const { $ref: _ref, ...siblings } = s;
    const target = refs.includes(ref) ? undefined : resolve(root, ref);
    // A recursive or unresolvable reference: the shape is lost, the description kept.
    if (target === undefined) return plain({ type: "object", ...siblings });
    return { ...next(target, [...refs, ref]), ...next(siblings) };
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const { allOf, ...rest } = s;
    return clean(mergeAll([rest, ...allOf.filter(isObject)]), root, refs, depth);
  }

  const out: Schema = {};
  let nullable = s.nullable === true;
  let type = s.type;
  if (Array.isArray(type)) {
    const types = type.filter((t): t is string => typeof t === "string" && t !== "null");
    if (types.length < type.length) nullable = true;
    if (types.length > 1) {
      const { type: _t, ...rest } = s;
      const anyOf = types.map((t) => next({ ...rest, type: t }));
      return withNullable({ anyOf, ...pick(s, ["description", "title"]) }, nullable);
    }
    type = types[0];
  }
  if (type === "null") {
    type = undefined;
    nullable = true;
  }
  if (typeof type === "string") out.type = type;

  const alternatives = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (alternatives !== undefined) {
    const members = alternatives.filter(isObject).filter((m) => {
      const onlyNull = m.type === "null" && Object.keys(m).every((k) => k === "type" || k === "description");
      if (onlyNull) nullable = true;
      return !onlyNull;
    });
    if (members.length === 1) {
      const merged = next(members[0]);
      if (merged.nullable === true) nullable = true;
      Object.assign(out, merged, pick(s, ["description", "title", "default"]));
    } else if (members.length > 1) out.anyOf = members.map((m) => next(m));
  }

  let values: unknown[] | undefined = Array.isArray(s.enum) ? s.enum : "const" in s ? [s.const] : undefined;
  if (values !== undefined) {
    if (values.includes(null)) nullable = true;
    values = values.filter((v) => v !== null);
    if (values.length > 0) {
      out.enum = values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      if (out.type === undefined) out.type = "string";
    }
  }

  if (isObject(s.properties)) {
    const props: Schema = {};
    for (const [name, v] of Object.entries(s.properties)) props[name] = next(v);
    if (Object.keys(props).length > 0) {
      out.properties = props;
      if (Array.isArray(s.required)) {
        const required = s.required.filter((r): r is string => typeof r === "string" && r in props);
        if (required.length > 0) out.required = required;
      }
      if (Array.isArray(s.propertyOrdering)) out.propertyOrdering = s.propertyOrdering.filter((p) => typeof p === "string" && p in props);
    }
  }
  if (isObject(s.items)) out.items = next(s.items);
  else if (Array.isArray(s.items) && s.items.length > 0) {
    // A tuple: Gemini has no positional items, so any listed shape is allowed in any place.
    const items = s.items.filter(isObject).map((i) => next(i));
    out.items = items.length === 1 ? items[0] : { anyOf: items };
  }

  for (const [k, v] of Object.entries(s)) {
    if (k in out || !KEEP.has(k) || v === undefined) continue;
    if (k === "type" || k === "nullable" || k === "enum" || k === "properties" || k === "required" || k === "items" || k === "anyOf" || k === "propertyOrdering") continue;
    if (k === "format") {
      if (typeof v === "string" && typeof out.type === "string" && FORMATS[out.type]?.has(v)) out.format = v;
      continue;
    }
    out[k] = v;
  }
  if (out.anyOf !== undefined) delete out.type;
  return withNullable(out, nullable);
}

function withNullable(s: Schema, nullable: boolean): Schema {
  if (nullable) s.nullable = true;
  return s;
}

function pick(s: Schema, keys: string[]): Schema {
  const out: Schema = {};
  for (const k of keys) if (s[k] !== undefined) out[k] = s[k];
  return out;
}

/** What survives of a schema that cannot be expanded: its type and words. */
function plain(s: Schema): Schema {
  const out = pick(s, ["description", "title"]);
  if (typeof s.type === "string" && s.type !== "null") out.type = s.type;
  return out;
}

/** Resolves a local reference (`#`, `#/$defs/X`, `#/definitions/X`, any JSON pointer into the root). */
function resolve(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith("#")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isObject(at)) return undefined;
    at = at[key];
  }
  return isObject(at) ? at : undefined;
}

/** allOf as one schema: properties and required joined, other keys from the first that has them. */
function mergeAll(schemas: Schema[]): Schema {
  const out: Schema = {};
  for (const s of schemas) {
    for (const [k, v] of Object.entries(s)) {
      if (k === "properties" && isObject(v)) out.properties = { ...(isObject(out.properties) ? out.properties : {}), ...v };
      else if (k === "required" && Array.isArray(v)) out.required = [...new Set([...(Array.isArray(out.required) ? out.required : []), ...v])];
      else if (!(k in out)) out[k] = v;
    }
  }
  return out;
}
