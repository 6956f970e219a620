/** What an attempt's outcome counts as, for its target's breaker and its provider's: by code and status only. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ErrorCode, ERRORS, GatewayError } from "../../src/protocol/errors.ts";
import { verdicts } from "../../src/upstream/outcomes.ts";

const err = (code: string, status?: number, retryable = true) =>
  new GatewayError(code as ErrorCode, "whatever the text says", status === undefined ? { retryable } : { status, retryable });

test("a committed attempt is a success for both", () => {
  assert.deepEqual(verdicts(undefined, false), { target: "success", provider: "success" });
});

test("5xx, timeouts, resets and malformed answers count against the target", () => {
  for (const e of [
    err("SY_ERR_UPSTREAM_STATUS", 503),
    err("SY_ERR_UPSTREAM_STATUS", 500),
    err("SY_ERR_UPSTREAM_MALFORMED"),
    err("SY_ERR_FIRST_BYTE_TIMEOUT"),
    err("SY_ERR_IDLE_TIMEOUT"),
    err("SY_ERR_UPSTREAM_RESET"),
  ]) {
    assert.equal(verdicts(e, false).target, "failure", e.code);
  }
  assert.equal(verdicts(err("SY_ERR_UPSTREAM_STATUS", 503), false).provider, "success", "an HTTP answer shows the provider is there");
});

test("client errors count for nothing against the target; the provider answered", () => {
  for (const status of [400, 404, 413, 422]) {
    assert.deepEqual(verdicts(err("SY_ERR_UPSTREAM_CLIENT_ERROR", status, false), false), { target: "neutral", provider: "success" });
  }
});

test("a 429 counts only when configured to", () => {
  const e = err("SY_ERR_UPSTREAM_STATUS", 429);
  assert.equal(verdicts(e, false).target, "neutral");
  assert.equal(verdicts(e, true).target, "failure");
});

test("unreachable, or refusing every key, counts against the provider, not the model", () => {
  for (const e of [
    err("SY_ERR_UPSTREAM_CONNECT"),
    err("SY_ERR_CONNECT_TIMEOUT"),
    // Key rotation's code for "no key left", where the catalogue has it.
    ...("SY_ERR_UPSTREAM_AUTH" in ERRORS ? [err("SY_ERR_UPSTREAM_AUTH")] : []),
    err("SY_ERR_UPSTREAM_CLIENT_ERROR", 401, false),
    err("SY_ERR_UPSTREAM_CLIENT_ERROR", 403, false),
  ]) {
    assert.deepEqual(verdicts(e, false), { target: "neutral", provider: "failure" }, `${e.code} ${e.status}`);
  }
});

test("what we ended ourselves says nothing about the upstream", () => {
  for (const code of ["SY_ERR_CLIENT_ABORT", "SY_ERR_TOTAL_TIMEOUT", "SY_ERR_HEDGE_CANCELLED", "SY_ERR_SHUTTING_DOWN", "SY_ERR_STREAM_ABANDONED"]) {
    assert.deepEqual(verdicts(err(code), false), { target: "neutral", provider: "neutral" }, code);
  }
  assert.deepEqual(verdicts(new Error("not ours"), false), { target: "neutral", provider: "neutral" });
});
