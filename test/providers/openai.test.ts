import assert from "node:assert/strict";
import { test } from "node:test";
import { keyFault, openaiAdapter } from "../../src/providers/openai/index.ts";

const classify = (payload: unknown) => openaiAdapter.classifyStreamError(payload);
const status = (code: number, body: unknown) => openaiAdapter.classifyStatus({ status: code, headers: {}, body: JSON.stringify(body) }, 0);

test("an event that is no error is not classified", () => {
  for (const payload of [{ id: "x", choices: [] }, { error: null }, [], "text", null]) {
    assert.equal(classify(payload), undefined, JSON.stringify(payload));
  }
});

test("a stream error is classified by the status its code stands for, like the same status error", () => {
  const cases: Array<[unknown, number, boolean]> = [
    [{ error: { message: "too long", type: "invalid_request_error", code: "context_length_exceeded" } }, 400, false],
    [{ error: { message: "slow down", type: "requests", code: "rate_limit_exceeded" } }, 429, true],
    [{ error: { message: "oops", type: "server_error", code: "server_error" } }, 500, true],
    [{ error: { message: "busy", type: "overloaded_error" } }, 529, true],
    [{ type: "error", error: { type: "overloaded", message: "busy" } }, 529, true],
    // a status or numeric code in the event wins over the names
    [{ error: { message: "gone away", type: "server_error", status: 503 } }, 503, true],
    [{ error: { message: "nope", type: "server_error", code: 404 } }, 404, false],
    // nothing to go by: a failing upstream, tried again
    [{ error: "something broke" }, 502, true],
    [{ error: { message: "odd", code: "something_new" } }, 502, true],
  ];
  for (const [payload, expected, retryable] of cases) {
    const err = classify(payload);
    assert.ok(err !== undefined, JSON.stringify(payload));
    assert.equal(err.status, expected, JSON.stringify(payload));
    assert.equal(err.retryable, retryable, JSON.stringify(payload));
    assert.equal(err.code, retryable ? "SY_ERR_UPSTREAM_STATUS" : "SY_ERR_UPSTREAM_CLIENT_ERROR");
    const same = status(expected, payload);
    assert.equal(err.retryable, same.retryable, `as a ${expected} status: ${JSON.stringify(payload)}`);
  }
});

test("a refused key is the provider's fault: SY_ERR_UPSTREAM_AUTH, 502, retryable, as a status or in a stream's event", () => {
  const events: Array<[unknown, number]> = [
    [{ error: { message: "bad key", type: "invalid_request_error", code: "invalid_api_key" } }, 401],
    [{ error: { message: "no access", type: "permission_error" } }, 403],
    [{ error: { message: "denied", code: 401 } }, 401],
    [{ error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } }, 429],
    [{ error: { message: "Insufficient credits", code: 402 } }, 402],
  ];
  for (const [payload, upstreamStatus] of events) {
    for (const err of [classify(payload)!, status(upstreamStatus, payload)]) {
      assert.equal(err.code, "SY_ERR_UPSTREAM_AUTH", JSON.stringify(payload));
      assert.equal(err.status, 502);
      assert.equal(err.retryable, true);
      assert.match(err.message, new RegExp(`^key (refused|out of quota or credit) \\(${upstreamStatus}`));
    }
  }
  const quota = status(429, { error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } });
  assert.equal(quota.message, "key out of quota or credit (429 insufficient_quota): You exceeded your current quota");
  assert.equal(quota.retryAfterMs, undefined, "a quota is not waited out");
});

test("what is not the key's fault stays as it was", () => {
  const info = (message: string, code?: string) => ({ message, code });
  assert.equal(keyFault(429, info("Rate limit reached", "rate_limit_exceeded")), undefined);
  assert.equal(keyFault(400, info("bad", "invalid_api_key")), undefined, "the status decides first");
  // OpenRouter's moderation answers 403 for flagged input: the request's fault
  assert.equal(keyFault(403, info("Your chosen model requires moderation and your input was flagged")), undefined);
  const flagged = status(403, { error: { code: 403, message: "Your chosen model requires moderation and your input was flagged" } });
  assert.equal(flagged.code, "SY_ERR_UPSTREAM_CLIENT_ERROR");
  assert.equal(flagged.status, 403);
  const limited = openaiAdapter.classifyStatus({ status: 429, headers: { "retry-after": "2" }, body: "{}" }, 0);
  assert.equal(limited.code, "SY_ERR_UPSTREAM_STATUS");
  assert.equal(limited.retryAfterMs, 2000);
});

test("the upstream's message, type, code and param are kept", () => {
  const err = classify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key", param: null } });
  assert.equal(err?.message, "key refused (401 invalid_api_key): Incorrect API key provided");
  assert.deepEqual(err?.upstream, { type: "invalid_request_error", code: "invalid_api_key", param: undefined });
  const client = classify({ error: { message: "too long", type: "invalid_request_error", code: "context_length_exceeded", param: "messages" } });
  assert.equal(client?.message, "too long");
  assert.deepEqual(client?.upstream, { type: "invalid_request_error", code: "context_length_exceeded", param: "messages" });
});
