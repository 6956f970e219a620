import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PRESET_TYPES, resolveConfig } from "../../src/config/index.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { prepareProvider } from "../../src/providers/prepare.ts";
import { adapterFor } from "../../src/providers/registry.ts";
import type { Operation, PreparedProvider } from "../../src/providers/types.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";

function prepared(type: string, extra: Record<string, unknown> = {}): PreparedProvider {
  const config = resolveConfig({ providers: { p: { type, ...extra } } }, { env: {} }).providers.p;
  return prepareProvider(config, adapterFor(config.type));
}

function callUrl(p: PreparedProvider, op: Operation, model: string): { url: string; headers: Record<string, string>; body: Record<string, unknown> } {
  const call = adapterFor(p.config.type).buildCall({ op, body: { model: "public-name", messages: [] }, model, stream: false, provider: p, headers: p.keyHeaders[0] });
  return { url: p.origin + call.path, headers: call.headers, body: JSON.parse(call.body!) as Record<string, unknown> };
}

test("each preset calls its upstream's real endpoints with a bearer key, the target's model in the body", () => {
  const chatUrls: Record<string, string> = {
    openrouter: "https://openrouter.ai/api/v1/chat/completions",
    deepseek: "https://api.deepseek.com/v1/chat/completions",
    groq: "https://api.groq.com/openai/v1/chat/completions",
    mistral: "https://api.mistral.ai/v1/chat/completions",
    together: "https://api.together.xyz/v1/chat/completions",
    fireworks: "https://api.fireworks.ai/inference/v1/chat/completions",
    xai: "https://api.x.ai/v1/chat/completions",
    dashscope: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions",
    huggingface: "https://router.huggingface.co/v1/chat/completions",
    cloudflare: "https://api.cloudflare.com/client/v4/accounts/acc1/ai/v1/chat/completions",
    ollama: "http://127.0.0.1:11434/v1/chat/completions",
    vllm: "http://127.0.0.1:8000/v1/chat/completions",
    lmstudio: "http://127.0.0.1:1234/v1/chat/completions",
  };
  for (const type of PRESET_TYPES) {
    const p = prepared(type, { api_key: "sk-test", ...(type === "cloudflare" ? { account_id: "acc1" } : {}) });
    assert.equal(adapterFor(type).type, type);
    const { url, headers, body } = callUrl(p, "chat", "up-model");
    assert.equal(url, chatUrls[type], type);
    assert.equal(headers.authorization, "Bearer sk-test", type);
    assert.equal(body.model, "up-model");
    assert.equal(callUrl(p, "embeddings", "e").url, chatUrls[type].replace("/chat/completions", "/embeddings"));
  }
});

test("a local preset without a key sends no authorization header", () => {
  for (const type of ["ollama", "vllm", "lmstudio"]) {
    const { headers } = callUrl(prepared(type), "chat", "llama3");
    assert.equal("authorization" in headers, false, type);
  }
});

test("openrouter's attribution headers go with every call; configured headers replace them", () => {
  const p = prepared("openrouter", { api_key: "k", site_url: "https://app.example.com", app_name: "App" });
  const { headers } = callUrl(p, "chat", "openai/gpt-4o");
  assert.equal(headers["http-referer"], "https://app.example.com");
  assert.equal(headers["x-openrouter-title"], "App");
  assert.equal(headers["x-title"], "App");
  const own = prepared("openrouter", { app_name: "App", headers: { "x-title": "Mine" } });
  assert.equal(callUrl(own, "chat", "m").headers["x-title"], "Mine");
});

test("probes: the model list for all but Cloudflare, whose model search proves token and account", () => {
  const groq = prepared("groq");
  assert.equal(groq.origin + adapterFor("groq").probeCall(groq, groq.keyHeaders[0]).path, "https://api.groq.com/openai/v1/models");
  const cf = prepared("cloudflare", { account_id: "acc1" });
  const probe = adapterFor("cloudflare").probeCall(cf, cf.keyHeaders[0]);
  assert.equal(cf.origin + probe.path, "https://api.cloudflare.com/client/v4/accounts/acc1/ai/models/search");
  assert.deepEqual(adapterFor("cloudflare").modelIds!({ success: true, result: [{ id: "u1", name: "@cf/meta/llama-3.1-8b-instruct" }, { id: "u2" }] }), [
    "@cf/meta/llama-3.1-8b-instruct",
  ]);
  const gateway = prepared("cloudflare", { base_url: "https://gateway.ai.cloudflare.com/v1/acc1/gw/workers-ai/v1" });
  assert.equal(adapterFor("cloudflare").probeCall(gateway, gateway.keyHeaders[0]).path, "/v1/acc1/gw/workers-ai/v1/models");
});

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

test("through the gateway: a preset pointed at the mock sends its key and headers, and streams back", async (t) => {
  const gw = await startGateway({
    providers: {
      or: { type: "openrouter", base_url: mock.url, api_key: "or-key", site_url: "https://app.example.com", app_name: "App" },
      local: { type: "ollama", base_url: mock.url },
    },
    models: { chat: { targets: ["or/openai/gpt-4o"] }, local: { targets: ["local/llama3"] } },
  });
  t.after(() => gw.close());
  const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
  assert.equal(res.status, 200, res.text);
  const seen = mock.requests.at(-1)!;
  assert.equal(seen.path, "/v1/chat/completions");
  assert.equal(seen.headers.authorization, "Bearer or-key");
  assert.equal(seen.headers["http-referer"], "https://app.example.com");
  assert.equal(seen.headers["x-openrouter-title"], "App");
  assert.equal(seen.body?.model, "openai/gpt-4o");

  const stream = await gw.client.chat.completions.create({ model: "local", messages: [{ role: "user", content: "hi" }], stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  assert.match(text, /^Hello from the Switchyard mock\./);
  assert.equal(mock.requests.at(-1)!.headers.authorization, undefined);
});
