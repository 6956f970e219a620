/**
 * YAML turns `key:` with nothing after it into null, and a careless edit can
 * leave a scalar or a list where a mapping belongs. Each of these must come
 * back as a problem named by its path, never as a crash.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { ConfigError, resolveConfig } from "../../src/config/index.ts";
import { problemsOf } from "./fixtures.ts";

const PROVIDER = "providers: { p: { type: openai, base_url: 'http://127.0.0.1:9/v1' } }";

/** YAML text → the problems it gets, or a failure naming the crash. */
function problemsOfYaml(yaml: string): string[] {
  try {
    resolveConfig(parse(yaml), { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `${JSON.stringify(yaml)} crashed: ${String(err)}`);
    return err.problems;
  }
  assert.fail(`expected ${JSON.stringify(yaml)} to be rejected`);
}

const cases: [yaml: string, problems: string[]][] = [
  // the document itself
  ["42", ["config: expected a mapping"]],
  ["just text", ["config: expected a mapping"]],
  ["[a, b]", ["config: expected a mapping"]],
  // sections
  ["server: 5", ["server: expected a mapping"]],
  ["server: [a]", ["server: expected a mapping"]],
  ["defaults: text", ["defaults: expected a mapping"]],
  ["defaults: { timeouts: 5, pool: [], retry: text }", ["defaults.timeouts: expected a mapping", "defaults.pool: expected a mapping", "defaults.retry: expected a mapping"]],
  ["providers: 5", ["providers: expected a mapping"]],
  ["models: [a]", ["models: expected a mapping"]],
  // one provider
  ["providers: { p1: }", ["providers.p1: expected a mapping"]],
  ["providers:\n  p1:\n", ["providers.p1: expected a mapping"]],
  ["providers: { p1: 5 }", ["providers.p1: expected a mapping"]],
  ["providers: { p1: openai }", ["providers.p1: expected a mapping"]],
  ["providers: { p1: [openai] }", ["providers.p1: expected a mapping"]],
  ["providers: { p1: { type: } }", ["providers.p1.type: required"]],
  ["providers: { p1: { type: openai, base_url: 'http://x', timeouts: 5, pool: [a], headers: text } }", [
    "providers.p1.headers: expected a mapping of header names to values",
    "providers.p1.timeouts: expected a mapping",
    "providers.p1.pool: expected a mapping",
  ]],
  ["providers: { p1: { type: openai, base_url: 'http://x', headers: { X-A: } } }", ["providers.p1.headers.X-A: expected a string (quote numbers)"]],
  // one model
  [`${PROVIDER}\nmodels: { m: }`, ["models.m: expected a mapping"]],
  [`${PROVIDER}\nmodels: { m: p/x }`, ["models.m: expected a mapping"]],
  [`${PROVIDER}\nmodels: { m: { targets: } }`, ["models.m.targets: required"]],
  [`${PROVIDER}\nmodels: { m: { targets: p/x } }`, ["models.m.targets: expected a list"]],
  [`${PROVIDER}\nmodels: { m: { targets: [ ~ ] } }`, ['models.m.targets[0]: expected "provider/model" or a mapping with provider and model']],
  [`${PROVIDER}\nmodels: { m: { targets: [ [p, x] ] } }`, ['models.m.targets[0]: expected "provider/model" or a mapping with provider and model']],
  [`${PROVIDER}\nmodels: { m: { targets: [ { provider: , model: } ] } }`, ["models.m.targets[0].provider: required", "models.m.targets[0].model: required"]],
  [`${PROVIDER}\nmodels: { m: { targets: [p/x], retry: 5 } }`, ["models.m.retry: expected a mapping"]],
  [`${PROVIDER}\nmodels: { m: { targets: [p/x], retry: [1s] } }`, ["models.m.retry: expected a mapping"]],
  [`${PROVIDER}\nmodels: { m: { targets: [p/x], fallbacks: [ ~ ] } }`, ["models.m.fallbacks[0]: required"]],
];

for (const [yaml, expected] of cases) {
  test(`${JSON.stringify(yaml)} is reported by path`, () => {
    assert.deepEqual(problemsOfYaml(yaml), expected);
  });
}

test("a non-mapping provider is reported once, with no knock-on base_url problem", () => {
  assert.deepEqual(problemsOf({ providers: { a: null, b: 7, c: "openai" } }), [
    "providers.a: expected a mapping",
    "providers.b: expected a mapping",
    "providers.c: expected a mapping",
  ]);
});

test("an empty document, and sections left empty, are an empty config", () => {
  for (const yaml of ["", "# only a comment\n", "---\n", "~", "server:\ndefaults:\nproviders:\nmodels:\n"]) {
    const config = resolveConfig(parse(yaml), { env: {} });
    assert.deepEqual([Object.keys(config.providers), Object.keys(config.models)], [[], []], JSON.stringify(yaml));
  }
});
