import assert from "node:assert/strict";
import { test } from "node:test";
import { startMockUpstream } from "../../src/mock/index.ts";

type ErrorBody = { error: { code: string; type: string } };

test("keys: any of several accepted, as a bearer or Azure's api-key; quota keys get OpenAI's insufficient_quota", async (t) => {
  const mock = await startMockUpstream({ apiKey: ["k1", "k2"], quotaKeys: ["k2"] });
  t.after(() => mock.close());
  const get = (headers: Record<string, string>) => fetch(`${mock.url}/models`, { headers });
  assert.equal((await get({ authorization: "Bearer k1" })).status, 200);
  assert.equal((await get({ "api-key": "k1" })).status, 200);
  const spent = await get({ authorization: "Bearer k2" });
  assert.equal(spent.status, 429);
  assert.deepEqual(((await spent.json()) as ErrorBody).error.code, "insufficient_quota");
  const wrong = await get({ "api-key": "k3" });
  assert.equal(wrong.status, 401);
  assert.equal(((await wrong.json()) as ErrorBody).error.code, "invalid_api_key");
});

test("Azure's paths: deployments with api-version, the v1 API, and the model list", async (t) => {
  const mock = await startMockUpstream();
  t.after(() => mock.close());
  const base = mock.url.replace(/\/v1$/, "");
  const body = JSON.stringify({ messages: [{ role: "user", content: "hi" }] });
  const dated = await fetch(`${base}/openai/deployments/my-dep/chat/completions?api-version=2024-10-21`, { method: "POST", body });
  assert.equal(dated.status, 200);
  assert.equal(((await dated.json()) as { model: string }).model, "my-dep", "the deployment stands in for a model the body leaves out");
  const v1 = await fetch(`${base}/openai/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "dep", messages: [] }) });
  assert.equal(v1.status, 200);
  await v1.text();
  assert.equal((await fetch(`${base}/openai/models?api-version=2024-10-21`)).status, 200);
  const unversioned = await fetch(`${base}/openai/deployments/my-dep/embeddings`, { method: "POST", body: JSON.stringify({ input: "x" }) });
  assert.equal(unversioned.status, 404);
  await unversioned.text();
  assert.equal(mock.requests[0].body?.model, undefined, "the recorded body is the one sent");
});
