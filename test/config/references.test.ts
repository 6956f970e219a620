import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../src/config/index.ts";
import { minimal, problemsOf } from "./fixtures.ts";

function withModels(models: Record<string, unknown>): Record<string, any> {
  const raw = minimal();
  raw.models = models;
  return raw;
}

const target = { targets: ["openai/m"] };

test("a target naming an unknown provider gets a did-you-mean among providers", () => {
  const raw = minimal();
  raw.models.chat.targets = [{ provider: "openai", model: "a" }, { provider: "opnai", model: "b" }, "opeani/c", "zzz/d"];
  assert.deepEqual(problemsOf(raw), [
    'models.chat.targets[1].provider: unknown provider "opnai" (did you mean "openai"?)',
    'models.chat.targets[2]: unknown provider "opeani" (did you mean "openai"?)',
    'models.chat.targets[3]: unknown provider "zzz"',
  ]);
});

test("with no providers at all, the message says so", () => {
  assert.deepEqual(problemsOf({ models: { chat: target } }), [
    'models.chat.targets[0]: unknown provider "openai" (no providers are configured)',
  ]);
});

test("provider names can't contain a slash", () => {
  const raw = minimal();
  raw.providers["a/b"] = { type: "demo" };
  assert.deepEqual(problemsOf(raw), ['providers["a/b"]: provider names must be non-empty and contain no "/"']);
});

test("fallbacks must name existing models, with a did-you-mean", () => {
  assert.deepEqual(problemsOf(withModels({ chat: { ...target, fallbacks: ["chat-smal", "nothing"] }, "chat-small": target })), [
    'models.chat.fallbacks[0]: unknown model "chat-smal" (did you mean "chat-small"?)',
    'models.chat.fallbacks[1]: unknown model "nothing"',
  ]);
});

test("a model can't fall back to itself or list a fallback twice", () => {
  assert.deepEqual(problemsOf(withModels({ chat: { ...target, fallbacks: ["chat", "b", "b"] }, b: target })), [
    "models.chat.fallbacks[0]: a model can't fall back to itself",
    'models.chat.fallbacks[2]: "b" is listed twice',
  ]);
});

test("fallback cycles are reported once each", () => {
  const models = {
    a: { ...target, fallbacks: ["b"] },
    b: { ...target, fallbacks: ["c"] },
    c: { ...target, fallbacks: ["a"] },
    d: { ...target, fallbacks: ["a"] },
    x: { ...target, fallbacks: ["y"] },
    y: { ...target, fallbacks: ["x"] },
  };
  assert.deepEqual(problemsOf(withModels(models)), [
    "models.c.fallbacks[0]: fallback cycle: a → b → c → a",
    "models.y.fallbacks[0]: fallback cycle: x → y → x",
  ]);
});

test("an acyclic fallback chain is fine", () => {
  const models = { a: { ...target, fallbacks: ["b", "c"] }, b: { ...target, fallbacks: ["c"] }, c: target };
  const config = resolveConfig(withModels(models), { env: {} });
  assert.deepEqual(config.models.a.fallbacks, ["b", "c"]);
});
