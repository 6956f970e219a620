import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, PROVIDER_TYPES, resolveConfig } from "../../src/config/index.ts";
import { minimal, problemsOf } from "./fixtures.ts";

/** Applies `change` to a fresh minimal config and returns the problems reported. */
function problemsAfter(change: (raw: Record<string, any>) => void): string[] {
  const raw = minimal();
  change(raw);
  return problemsOf(raw);
}

test("unknown keys are reported with a did-you-mean hint", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.base_ur = raw.providers.openai.base_url;
    }),
    ['providers.openai.base_ur: unknown key (did you mean "base_url"?)'],
  );
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.modles = {};
    }),
    ['modles: unknown key (did you mean "models"?)'],
  );
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.server = { hots: "0.0.0.0" };
      raw.models.chat.targets[0].wieght = 2;
      raw.models.chat.unrelated = 1;
    }),
    [
      'server.hots: unknown key (did you mean "host"?)',
      'models.chat.targets[0].wieght: unknown key (did you mean "weight"?)',
      "models.chat.unrelated: unknown key",
    ],
  );
});

test("an unknown provider type gets a hint, or the list of types", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.type = "opnai";
    }),
    ['providers.openai.type: unknown provider type "opnai" (did you mean "openai"?)'],
  );
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.type = "nonesuch";
    }),
    [`providers.openai.type: unknown provider type "nonesuch" (expected one of: ${PROVIDER_TYPES.join(", ")})`],
  );
});

test("base_url must be an http(s) URL and is required except for demo", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.base_url = "ftp://example.com";
      raw.providers.other = { type: "openai", base_url: "not a url" };
      raw.providers.missing = { type: "openai" };
    }),
    [
      "providers.openai.base_url: expected an http:// or https:// URL",
      "providers.other.base_url: expected an http:// or https:// URL",
      'providers.missing.base_url: required for provider type "openai"',
    ],
  );
});

test("server values are range-checked", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.server = { host: "", port: 70000, max_body: "10zb", log_level: "inf", workers: 0 };
    }),
    [
      "server.host: must not be empty",
      "server.port: expected an integer from 0 to 65535",
      'server.max_body: invalid size "10zb": unknown unit "zb", expected a non-negative number with a unit (b, kb, mb, gb)',
      'server.log_level: unknown log level "inf" (did you mean "info"?)',
      "server.workers: expected an integer ≥ 1",
    ],
  );
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.server = { port: 1.5, workers: "two" };
    }),
    ["server.port: expected an integer from 0 to 65535", "server.workers: expected an integer ≥ 1"],
  );
});

test("timeouts, pool and retry values are checked", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.timeouts = { connect: "-1s", first_byte: "soon", idle: true };
      raw.providers.openai.pool = { connections: 0, http2: "maybe" };
      raw.models.chat.retry = { attempts: 0 };
      raw.defaults = { retry: { base_delay: "10s", max_delay: "1s" } };
    }),
    [
      "defaults.retry.max_delay: must not be shorter than base_delay",
      'providers.openai.timeouts.connect: invalid duration "-1s": expected a non-negative number with a unit (ms, s, m, h)',
      'providers.openai.timeouts.first_byte: invalid duration "soon": expected a non-negative number with a unit (ms, s, m, h), or auto',
      "providers.openai.timeouts.idle: expected a duration such as 250ms, 10s or 5m",
      "providers.openai.pool.connections: expected an integer ≥ 1",
      "providers.openai.pool.http2: expected true or false",
      "models.chat.retry.attempts: expected an integer ≥ 1",
    ],
  );
});

test("target fields are checked", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.models.chat.targets = [
        { provider: "openai", model: "m", priority: -1, weight: 0 },
        { provider: "openai", priority: 1.5, weight: "heavy" },
        "no-slash",
        "/model",
        42,
      ];
    }),
    [
      "models.chat.targets[0].priority: expected an integer ≥ 0",
      "models.chat.targets[0].weight: expected a number > 0",
      "models.chat.targets[1].model: required",
      "models.chat.targets[1].priority: expected an integer ≥ 0",
      "models.chat.targets[1].weight: expected a number > 0",
      'models.chat.targets[2]: invalid target "no-slash": expected "provider/model"',
      'models.chat.targets[3]: invalid target "/model": expected "provider/model"',
      'models.chat.targets[4]: expected "provider/model" or a mapping with provider and model',
    ],
  );
});

test("every model needs at least one target", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.models.empty = { targets: [] };
      raw.models.missing = {};
      raw.models.blank = null;
    }),
    [
      "models.empty.targets: at least one target is required",
      "models.missing.targets: required",
      "models.blank: expected a mapping",
    ],
  );
});

test("headers map names to string values", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.headers = { "Bad Name": "x", "X-Version": 2, "X-Split": "a\r\nb" };
    }),
    [
      'providers.openai.headers["Bad Name"]: invalid header name',
      "providers.openai.headers.X-Version: expected a string (quote numbers)",
      "providers.openai.headers.X-Split: must not contain line breaks",
    ],
  );
});

test("wrong section types are reported", () => {
  assert.deepEqual(problemsOf([1, 2]), ["config: expected a mapping"]);
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers = ["openai"];
      raw.models.chat.targets = "openai/gpt-4o";
      raw.models.chat.fallbacks = "other";
    }),
    [
      "providers: expected a mapping",
      "models.chat.targets: expected a list",
      "models.chat.fallbacks: expected a list",
    ],
  );
});

test("every problem is listed at once, interpolation and references included", () => {
  const problems = problemsAfter((raw) => {
    raw.providers.openai.api_key = "${OPENAI_KEY}";
    raw.providers.openai.colour = "blue";
    raw.server = { port: -1 };
    raw.models.chat.targets.push({ provider: "opnai", model: "x" });
  });
  assert.deepEqual(problems, [
    "providers.openai.api_key: environment variable OPENAI_KEY is not set",
    "server.port: expected an integer from 0 to 65535",
    "providers.openai.colour: unknown key",
    'models.chat.targets[1].provider: unknown provider "opnai" (did you mean "openai"?)',
  ]);
});

test("a missing variable is reported once, not again as a schema error", () => {
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.providers.openai.base_url = "${UPSTREAM_URL}";
    }),
    ["providers.openai.base_url: environment variable UPSTREAM_URL is not set"],
  );
});

test("the ConfigError message has a header and one problem per line", () => {
  const raw = minimal();
  raw.server = { port: "x", workers: 0 };
  try {
    resolveConfig(raw, { env: {}, source: "switchyard.yaml" });
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.name, "ConfigError");
    assert.equal(
      err.message,
      "invalid config (switchyard.yaml):\n  server.port: expected an integer from 0 to 65535\n  server.workers: expected an integer ≥ 1",
    );
  }
});
