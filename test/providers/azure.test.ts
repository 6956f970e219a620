import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AzureOpenAI } from "openai";
import { AZURE_API_VERSION, resolveConfig } from "../../src/config/index.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { azureAdapter } from "../../src/providers/azure/index.ts";
import { prepareProvider } from "../../src/providers/prepare.ts";
import type { Operation, PreparedProvider } from "../../src/providers/types.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

function prepared(extra: Record<string, unknown>): PreparedProvider {
  const config = resolveConfig({ providers: { az: { type: "azure", api_key: "az-key", ...extra } } }, { env: {} }).providers.az;
  return prepareProvider(config, azureAdapter);
}

function call(p: PreparedProvider, op: Operation, deployment: string) {
  const c = azureAdapter.buildCall({ op, body: { model: "public", input: "x" }, model: deployment, stream: false, provider: p, headers: p.keyHeaders[0] });
  return { url: p.origin + c.path, headers: c.headers, body: JSON.parse(c.body!) as Record<string, unknown> };
}

test("dated API: the deployment in the path, api-version in the query, the key in api-key", () => {
  const p = prepared({ base_url: "https://res.openai.azure.com" });
  const chatCall = call(p, "chat", "gpt4o-prod");
  assert.equal(chatCall.url, `https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=${AZURE_API_VERSION}`);
  assert.equal(chatCall.headers["api-key"], "az-key");
  assert.equal("authorization" in chatCall.headers, false);
  assert.equal(chatCall.body.model, "gpt4o-prod");
  assert.equal(call(p, "completions", "d").url, `https://res.openai.azure.com/openai/deployments/d/completions?api-version=${AZURE_API_VERSION}`);
  assert.equal(call(p, "embeddings", "emb small").url, `https://res.openai.azure.com/openai/deployments/emb%20small/embeddings?api-version=${AZURE_API_VERSION}`);
  const probe = azureAdapter.probeCall(p, p.keyHeaders[0]);
  assert.equal(p.origin + probe.path, `https://res.openai.azure.com/openai/models?api-version=${AZURE_API_VERSION}`);
});

test("the Responses API (responses: true) names the deployment in the body, on either API", () => {
  const dated = prepared({ base_url: "https://res.openai.azure.com", api_version: "2025-04-01-preview", responses: true });
  const c = call(dated, "responses", "gpt4o-prod");
  assert.equal(c.url, "https://res.openai.azure.com/openai/responses?api-version=2025-04-01-preview");
  assert.equal(c.body.model, "gpt4o-prod");
  const v1 = prepared({ base_url: "https://res.openai.azure.com", api_version: "v1", responses: true });
  assert.equal(call(v1, "responses", "d").url, "https://res.openai.azure.com/openai/v1/responses");
});

test("a base URL ending in /openai and a chosen api_version", () => {
  const p = prepared({ base_url: "https://res.openai.azure.com/openai/", api_version: "2025-04-01-preview" });
  assert.equal(call(p, "chat", "d").url, "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2025-04-01-preview");
});

test("v1 API: OpenAI's paths under /openai/v1, the deployment as the body's model", () => {
  for (const base_url of ["https://res.openai.azure.com", "https://res.openai.azure.com/openai/v1"]) {
    const p = prepared({ base_url, api_version: "v1" });
    const c = call(p, "chat", "gpt4o-prod");
    assert.equal(c.url, "https://res.openai.azure.com/openai/v1/chat/completions");
    assert.equal(c.body.model, "gpt4o-prod");
    assert.equal(c.headers["api-key"], "az-key");
    assert.equal(p.origin + azureAdapter.probeCall(p, p.keyHeaders[0]).path, "https://res.openai.azure.com/openai/v1/models");
  }
});

describe("through the gateway, with the mock speaking Azure", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  before(async () => {
    mock = await startMockUpstream({ apiKey: "az-key" });
    const resource = mock.url.replace(/\/v1$/, "");
    gw = await startGateway({
      providers: {
        az: { type: "azure", base_url: resource, api_key: "az-key" },
        az1: { type: "azure", base_url: resource, api_key: "az-key", api_version: "v1" },
      },
      models: { chat: { targets: ["az/gpt4o-prod"] }, v1: { targets: ["az1/gpt4o-prod"] }, embed: { targets: ["az/emb"] } },
    });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("the OpenAI SDK's chat, whole and streamed, reaches the deployment's URL", async () => {
    const whole = await gw.client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] });
    assert.match(whole.choices[0].message.content ?? "", /^Hello from the Switchyard mock\./);
    let seen = mock.requests.at(-1)!;
    assert.equal(seen.path, `/openai/deployments/gpt4o-prod/chat/completions?api-version=${AZURE_API_VERSION}`);
    assert.equal(seen.headers["api-key"], "az-key");
    assert.equal(seen.headers.authorization, undefined, "the client's key is not forwarded, nor sent as a bearer");

    const stream = await gw.client.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage?.total_tokens ?? usage;
    }
    assert.match(text, /^Hello from the Switchyard mock\./);
    assert.ok(usage > 0);
    seen = mock.requests.at(-1)!;
    assert.equal(seen.body?.stream, true);
  });

  test("embeddings and the v1 API", async () => {
    const emb = await gw.client.embeddings.create({ model: "embed", input: "hello" });
    assert.equal(emb.data.length, 1);
    assert.equal(mock.requests.at(-1)!.path, `/openai/deployments/emb/embeddings?api-version=${AZURE_API_VERSION}`);
    const res = await post(`${gw.url}/v1/chat/completions`, chat("v1"));
    assert.equal(res.status, 200, res.text);
    assert.equal(mock.requests.at(-1)!.path, "/openai/v1/chat/completions");
    assert.equal(mock.requests.at(-1)!.body?.model, "gpt4o-prod");
  });

  test("a refused Azure key is the provider's fault like any other", async (t) => {
    const wrong = await startGateway({
      providers: { az: { type: "azure", base_url: mock.url.replace(/\/v1$/, ""), api_key: "wrong-azure-key" } },
      models: { chat: { targets: ["az/gpt4o-prod"], retry: { attempts: 1 } } },
    });
    t.after(() => wrong.close());
    const res = await post(`${wrong.url}/v1/chat/completions`, chat("chat"));
    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.text).error.code, "SY_ERR_UPSTREAM_AUTH");
    assert.ok(!res.text.includes("wrong-azure-key"));
  });

  test("the mock answers Azure's own SDK client too", async () => {
    const client = new AzureOpenAI({ endpoint: mock.url.replace(/\/v1$/, ""), apiKey: "az-key", apiVersion: AZURE_API_VERSION, deployment: "dep-a" });
    const res = await client.chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] });
    assert.match(res.choices[0].message.content ?? "", /^Hello/);
    assert.match(mock.requests.at(-1)!.path, /^\/openai\/deployments\/dep-a\/chat\/completions\?api-version=/);
    const missing = await fetch(`${mock.url.replace(/\/v1$/, "")}/openai/deployments/d/chat/completions`, {
      method: "POST",
      headers: { "api-key": "az-key", "content-type": "application/json" },
      body: JSON.stringify(chat("x")),
    });
    assert.equal(missing.status, 404, "a dated path needs its api-version");
  });
});
