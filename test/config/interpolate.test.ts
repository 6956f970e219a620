import assert from "node:assert/strict";
import { test } from "node:test";
import { interpolate } from "../../src/config/interpolate.ts";

test("replaces ${VAR} from the given env", () => {
  const { value, problems } = interpolate({ a: "${KEY}" }, { KEY: "secret" });
  assert.deepEqual(value, { a: "secret" });
  assert.deepEqual(problems, []);
});

test("uses the :- default when the variable is unset or empty", () => {
  const { value, problems } = interpolate(["${A:-x}", "${B:-y}", "${C:-}", "${D:-z}"], { B: "", D: "set" });
  assert.deepEqual(value, ["x", "y", "", "set"]);
  assert.deepEqual(problems, []);
});

test("replaces several references anywhere inside a string", () => {
  const { value } = interpolate({ url: "http://${HOST}:${PORT:-80}/v1?x=${HOST}" }, { HOST: "h" });
  assert.deepEqual(value, { url: "http://h:80/v1?x=h" });
});

test("walks nested mappings and lists and leaves non-strings alone", () => {
  const inner = { b: "${X}" };
  const { value } = interpolate({ a: [inner, 3, true, null], c: { d: "plain $ sign" } }, { X: "x" });
  assert.deepEqual(value, { a: [{ b: "x" }, 3, true, null], c: { d: "plain $ sign" } });
  assert.equal(inner.b, "${X}", "the input is not modified");
});

test("$${ is a literal ${", () => {
  const { value, problems } = interpolate({ a: "$${NOT_A_VAR} and ${X}" }, { X: "x" });
  assert.deepEqual(value, { a: "${NOT_A_VAR} and x" });
  assert.deepEqual(problems, []);
});

test("a value can't inject YAML structure", () => {
  const { value } = interpolate({ a: "${X}" }, { X: "b: 1\nc: [2]" });
  assert.deepEqual(value, { a: "b: 1\nc: [2]" });
});

test("an unset variable without default is reported with its path", () => {
  const raw = { providers: { primary: { api_key: "${PRIMARY_KEY}" } }, list: ["ok", "${A}${B}"] };
  const { problems, problemPaths } = interpolate(raw, {});
  assert.deepEqual(problems, [
    "providers.primary.api_key: environment variable PRIMARY_KEY is not set",
    "list[1]: environment variable A is not set",
    "list[1]: environment variable B is not set",
  ]);
  assert.deepEqual(problemPaths, ["providers.primary.api_key", "list[1]"]);
});

test("malformed references are reported", () => {
  const { problems } = interpolate({ a: "${OPEN", b: "${1BAD}", c: "${A:-${B}}" }, {});
  assert.equal(problems.length, 3);
  assert.match(problems[0], /^a: unterminated "\$\{"/);
  assert.match(problems[1], /^b: invalid reference "\$\{1BAD\}"/);
  assert.match(problems[2], /^c: invalid reference/);
});

test("keys are not interpolated", () => {
  const { value } = interpolate({ "${X}": "v" }, { X: "x" });
  assert.deepEqual(value, { "${X}": "v" });
});
