/**
 * The JSON Schema of the config file, generated from the zod schema, for
 * editors (yaml-language-server reads a `# yaml-language-server: $schema=…`
 * first line). It describes the file as written, before `${VAR}`
 * interpolation: the input side of the schema, not its output.
 *
 * It is a guide while typing, not the judge: the gateway's own validation
 * also checks what JSON Schema cannot say (targets naming real providers,
 * fallback cycles, base_delay ≤ max_delay), and an editor may accept a value
 * the gateway then rejects, never the other way round.
 */

import { z } from "zod";
import type { JsonSchema } from "./scalars.ts";
import { alternativeInput, configSchema, rejectsUnknownKeys } from "./schema.ts";

/** Keywords that constrain only values of one type, so schemas of different types can share one object. */
const TYPE_SPECIFIC = new Set([
  "type",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "pattern",
  "patternErrorMessage",
  "minLength",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "minItems",
]);

/**
 * Simplifies the `anyOf` that zod writes for nullable values and that the
 * scalars use for "a number or a string", into what editors show best (an
 * `anyOf` makes their hover text repeat itself):
 * - nested `anyOf`s are flattened;
 * - `null` joins an `enum` that is there;
 * - members of distinct single types, each using only keywords of its own
 *   type, merge into one schema with a list of types. Exact, since a keyword
 *   such as `minimum` ignores values of other types.
 */
function simplifyAnyOf(json: JsonSchema): void {
  if (!Array.isArray(json.anyOf)) return;
  let members = (json.anyOf as JsonSchema[]).flatMap((m) => (Object.keys(m).length === 1 && Array.isArray(m.anyOf) ? (m.anyOf as JsonSchema[]) : [m]));
  // Members may be shared with the zod schema's metadata: replace them, never change them.
  const isNull = (m: JsonSchema) => Object.keys(m).length === 1 && m.type === "null";
  if (members.some((m) => Array.isArray(m.enum)) && members.some(isNull)) {
    members = members.filter((m) => !isNull(m)).map((m) => (Array.isArray(m.enum) ? { ...m, enum: [...m.enum, null] } : m));
  }
  const typeLists = members.map((m) => (Array.isArray(m.type) ? m.type : [m.type]));
  const types = typeLists.flat();
  const keywords = members.flatMap((m) => Object.keys(m).filter((k) => k !== "type"));
  const mergeable =
    members.length > 1 &&
    types.every((t) => typeof t === "string") &&
    new Set(types).size === types.length &&
    keywords.every((k, i) => TYPE_SPECIFIC.has(k) && keywords.indexOf(k) === i);
  if (mergeable || members.length === 1) {
    delete json.anyOf;
    Object.assign(json, ...members, members.length === 1 ? {} : { type: types });
  } else {
    json.anyOf = members;
  }
}

function override({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }): void {
  if (rejectsUnknownKeys(zodSchema)) jsonSchema.additionalProperties = false;
  const alternative = alternativeInput(zodSchema);
  if (alternative !== undefined) {
    const described = { ...jsonSchema };
    for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
    jsonSchema.anyOf = [alternative, described];
  }
  simplifyAnyOf(jsonSchema);
}

export function configJsonSchema(): JsonSchema {
  // draft-07: the draft editors support best; nothing here needs a later one.
  const generated = z.toJSONSchema(configSchema, { target: "draft-7", io: "input", override }) as JsonSchema;
  const { $schema, ...rest } = generated;
  // No title: editors show the root's title as the heading of every hover.
  return {
    $schema,
    description:
      "The config file of the Switchyard LLM API gateway. Any value may be a ${VAR} or ${VAR:-default} reference to the environment. See docs/config.md.",
    ...rest,
  };
}

/** The published file's text: what `switchyard schema` prints and switchyard.schema.json holds. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
