/** JSON Schema as Gemini's OpenAPI subset: what is rewritten, what is dropped, what is kept. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanSchema, geminiParameters } from "../../src/codecs/gemini/schema.ts";

test("keys Gemini refuses are dropped: $schema, additionalProperties, $id, $comment, not, if/then/else, patternProperties", () => {
  const out = cleanSchema({
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "x",
    $comment: "c",
    type: "object",
    properties: { name: { type: "string", minLength: 1, maxLength: 9, pattern: "^a", examples: ["a"] }, n: { type: "integer", minimum: 0, maximum: 9, exclusiveMaximum: 10, multipleOf: 1 } },
    additionalProperties: false,
    patternProperties: { "^x": { type: "string" } },
    not: { type: "null" },
    if: {},
    then: {},
    else: {},
  });
  assert.deepEqual(out, {
    type: "object",
    properties: { name: { type: "string", minLength: 1, maxLength: 9, pattern: "^a" }, n: { type: "integer", minimum: 0, maximum: 9 } },
  });
});

test("$ref into $defs or definitions is inlined, with its sibling description; the defs go", () => {
  const out = cleanSchema({
    type: "object",
    properties: {
      home: { $ref: "#/$defs/Address", description: "where they live" },
      work: { $ref: "#/definitions/Address" },
    },
    $defs: { Address: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false } },
    definitions: { Address: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  });
  const address = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
  assert.deepEqual(out, { type: "object", properties: { home: { ...address, description: "where they live" }, work: address } });
});

test("a recursive $ref ends in a plain object instead of expanding forever", () => {
  const out = cleanSchema({
    type: "object",
    properties: { root: { $ref: "#/$defs/Node" } },
    $defs: { Node: { type: "object", description: "a node", properties: { value: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/Node" } } } } },
  });
  const node = (out.properties as Record<string, Record<string, unknown>>).root;
  assert.equal(node.description, "a node");
  assert.deepEqual((node.properties as Record<string, unknown>).children, { type: "array", items: { type: "object" } });
});

test("const becomes a one-value enum; non-string enum values are written as strings", () => {
  assert.deepEqual(cleanSchema({ const: "fixed" }), { type: "string", enum: ["fixed"] });
  assert.deepEqual(cleanSchema({ type: "integer", enum: [1, 2, 3] }), { type: "integer", enum: ["1", "2", "3"] });
});

test("null in a type array, an enum or an anyOf becomes nullable", () => {
  assert.deepEqual(cleanSchema({ type: ["string", "null"], description: "d" }), { type: "string", description: "d", nullable: true });
  assert.deepEqual(cleanSchema({ type: "string", enum: ["a", null] }), { type: "string", enum: ["a"], nullable: true });
  assert.deepEqual(cleanSchema({ anyOf: [{ type: "number" }, { type: "null" }], description: "maybe" }), { type: "number", description: "maybe", nullable: true });
  assert.deepEqual(cleanSchema({ type: "null" }), { nullable: true });
});

test("a type array of several types is an anyOf; oneOf reads as anyOf", () => {
  assert.deepEqual(cleanSchema({ type: ["string", "integer"] }), { anyOf: [{ type: "string" }, { type: "integer" }] });
  assert.deepEqual(cleanSchema({ oneOf: [{ type: "string" }, { type: "object", properties: { a: { type: "boolean" } }, additionalProperties: false }] }), {
    anyOf: [{ type: "string" }, { type: "object", properties: { a: { type: "boolean" } } }],
  });
});

test("allOf is merged into one schema", () => {
  assert.deepEqual(
    cleanSchema({ allOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, { properties: { b: { type: "number" } }, required: ["b"] }] }),
    { type: "object", properties: { a: { type: "string" }, b: { type: "number" } }, required: ["a", "b"] },
  );
});

test("only the formats Gemini accepts are kept", () => {
  assert.deepEqual(cleanSchema({ type: "string", format: "email" }), { type: "string" });
  assert.deepEqual(cleanSchema({ type: "string", format: "date-time" }), { type: "string", format: "date-time" });
  assert.deepEqual(cleanSchema({ type: "integer", format: "int64" }), { type: "integer", format: "int64" });
  assert.deepEqual(cleanSchema({ type: "number", format: "int64" }), { type: "number" });
});

test("required names only properties that exist; tuples become an anyOf of their items", () => {
  assert.deepEqual(cleanSchema({ type: "object", properties: { a: { type: "string" } }, required: ["a", "ghost"] }), { type: "object", properties: { a: { type: "string" } }, required: ["a"] });
  assert.deepEqual(cleanSchema({ type: "array", items: [{ type: "string" }, { type: "number" }] }), { type: "array", items: { anyOf: [{ type: "string" }, { type: "number" }] } });
});

test("a function without parameters sends none: Gemini refuses an object with no properties", () => {
  assert.equal(geminiParameters({ type: "object", properties: {} }), undefined);
  assert.equal(geminiParameters({ type: "object", additionalProperties: false }), undefined);
  assert.equal(geminiParameters(undefined), undefined);
  assert.deepEqual(geminiParameters({ type: "object", properties: { a: { type: "object", properties: {} } } }), { type: "object", properties: { a: { type: "object" } } });
});

test("the input is not changed", () => {
  const input = { type: "object", properties: { a: { $ref: "#/$defs/A" } }, $defs: { A: { type: ["string", "null"] } }, additionalProperties: false };
  const copy = structuredClone(input);
  cleanSchema(input);
  assert.deepEqual(input, copy);
});
