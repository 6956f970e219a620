/**
 * A validator for the part of JSON Schema (draft-07) that the config's
 * schema uses, so tests can check files against it the way an editor does.
 * It throws on any keyword it does not know, so a schema that grows a new
 * keyword cannot pass these tests by being ignored.
 */

type Schema = Record<string, unknown> | boolean;

/** Annotations, including the message editors show for a failed pattern (not standard, widely read). */
const ANNOTATIONS = new Set(["$schema", "title", "description", "patternErrorMessage"]);
const KNOWN = new Set([
  ...ANNOTATIONS,
  "type",
  "anyOf",
  "enum",
  "const",
  "pattern",
  "minLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "minItems",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Where `value` breaks `schema`, as "path: reason" lines; none when it is valid. */
export function jsonSchemaErrors(schema: Schema, value: unknown, path = "$"): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  for (const keyword of Object.keys(schema)) if (!KNOWN.has(keyword)) throw new Error(`unsupported keyword ${keyword} at ${path}`);
  const errors: string[] = [];
  const s = schema as Record<string, any>;
  const actual = typeOf(value);
  const types: string[] | undefined = s.type === undefined ? undefined : [s.type].flat();
  if (types !== undefined && !types.some((t) => t === actual || (t === "number" && actual === "integer"))) {
    return [`${path}: expected ${types.join(" or ")}, got ${actual}`];
  }
  if (s.anyOf !== undefined && !(s.anyOf as Schema[]).some((option) => jsonSchemaErrors(option, value, path).length === 0)) {
    errors.push(`${path}: matches none of anyOf`);
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).includes(value)) errors.push(`${path}: not one of ${JSON.stringify(s.enum)}`);
  if ("const" in s && s.const !== value) errors.push(`${path}: not ${JSON.stringify(s.const)}`);
  if (typeof value === "string") {
    if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(value)) errors.push(`${path}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && [...value].length < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`);
  }
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${path}: above ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) errors.push(`${path}: not above ${s.exclusiveMinimum}`);
  }
  if (actual === "object") {
    const object = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in object)) errors.push(`${path}: ${key} is required`);
    for (const [key, item] of Object.entries(object)) {
      if (s.propertyNames !== undefined) errors.push(...jsonSchemaErrors(s.propertyNames, key, `${path} key ${JSON.stringify(key)}`));
      const own = s.properties?.[key];
      if (own !== undefined) errors.push(...jsonSchemaErrors(own, item, `${path}.${key}`));
      else if (s.additionalProperties !== undefined) errors.push(...jsonSchemaErrors(s.additionalProperties, item, `${path}.${key}`));
    }
  }
  if (actual === "array") {
    const list = value as unknown[];
    if (s.minItems !== undefined && list.length < s.minItems) errors.push(`${path}: fewer than ${s.minItems} items`);
    if (s.items !== undefined) list.forEach((item, i) => errors.push(...jsonSchemaErrors(s.items, item, `${path}[${i}]`)));
  }
  return errors;
}
