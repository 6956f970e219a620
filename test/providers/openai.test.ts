import assert from "node:assert/strict";
import { test } from "node:test";
import { openaiAdapter } from "../../src/providers/openai/index.ts";

const classify = (payload: unknown) => openaiAdapter.classifyStreamError(payload);

test("an event that is no error is not classified", () => {
  for (const payload of [{ id: "x", choices: [] }, { error: null }, [], "text", null]) {
    assert.equal(classify(payload), undefined, JSON.stringify(payload));
  }
});

test("a stream error is classified by the status its code stands for, like the same status error", () => {
  const cases: Array<[unknown, number, boolean]> = [
    [{ error: { message: "bad key", type: "invalid_request_error", code: "invalid_api_key" } }, 401, false],
    [{ error: { message: "no access", type: "permission_error" } }, 403, false],
    [{ error: { message: "too long", type: "invalid_request_error", code: "context_length_exceeded" } }, 400, false],
    [{ error: { message: "slow down", type: "requests", code: "rate_limit_exceeded" } }, 429, true],
    [{ error: { message: "oops", type: "server_error", code: "server_error" } }, 500, true],
    [{ error: { message: "busy", type: "overloaded_error" } }, 529, true],
    [{ type: "error", error: { type: "overloaded", message: "busy" } }, 529, true],
    // a status or numeric code in the event wins over the names
    [{ error: { message: "denied", code: 401 } }, 401, false],
    [{ error: { message: "gone away", type: "server_error", status: 503 } }, 503, true],
    // nothing to go by: a failing upstream, tried again
    [{ error: "something broke" }, 502, true],
    [{ error: { message: "odd", code: "something_new" } }, 502, true],
  ];
  for (const [payload, status, retryable] of cases) {
    const err = classify(payload);
    assert.ok(err !== undefined, JSON.stringify(payload));
    assert.equal(err.status, status, JSON.stringify(payload));
    assert.equal(err.retryable, retryable, JSON.stringify(payload));
    assert.equal(err.code, retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR");
    const same = openaiAdapter.classifyStatus({ status, headers: {}, body: JSON.stringify(payload) }, 0);
    assert.equal(err.retryable, same.retryable, `as a ${status} status: ${JSON.stringify(payload)}`);
  }
});

test("the upstream's message, type, code and param are kept for the client", () => {
  const err = classify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key", param: null } });
  assert.equal(err?.message, "Incorrect API key provided");
  assert.deepEqual(err?.upstream, { type: "invalid_request_error", code: "invalid_api_key", param: undefined });
});
