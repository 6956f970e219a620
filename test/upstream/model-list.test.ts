import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { resolveConfig } from "../../src/config/index.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { geminiAdapter } from "../../src/providers/gemini/index.ts";
import { openaiAdapter } from "../../src/providers/openai/index.ts";
import { prepareProvider } from "../../src/providers/prepare.ts";
import { HttpTransport, PoolRegistry } from "../../src/upstream/http-transport.ts";
import { MODEL_LIST, UpstreamModels } from "../../src/upstream/model-list.ts";
import type { ProviderRuntime } from "../../src/upstream/runtime.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

let mock: MockUpstream;
let pools: PoolRegistry;
let runtimes: Map<string, ProviderRuntime>;

before(async () => {
  mock = await startMockUpstream({ models: Array.from({ length: 100 }, (_, i) => `model-${i}`) });
  const config = resolveConfig({ providers: { m: { type: "openai", base_url: mock.url } } }, { env: {} }).providers.m;
  const prepared = prepareProvider(config, openaiAdapter);
  pools = new PoolRegistry([config]);
  runtimes = new Map([["m", { prepared, adapter: openaiAdapter, transport: new HttpTransport(pools.get(prepared.origin)) }]]);
});
after(async () => {
  await pools.close();
  await mock.close();
});

test("an answer larger than maxBytes is not read: nothing is listed from it", async () => {
  const clock = new FakeClock();
  const small = new UpstreamModels(runtimes, clock, () => 0, { ...MODEL_LIST, maxBytes: 1000 });
  assert.deepEqual((await small.list(["configured"])).map((m) => m.id), ["configured"]);
  small.close();
  const roomy = new UpstreamModels(runtimes, clock, () => 0);
  const ids = (await roomy.list([])).map((m) => m.id);
  assert.equal(ids.length, 100);
  assert.equal(ids[0], "m/model-0");
  roomy.close();
});

test("close() leaves no refresh behind", async () => {
  const clock = new FakeClock();
  const models = new UpstreamModels(runtimes, clock, () => 0);
  await models.list([]);
  await clock.waitForTimer((ms) => ms === MODEL_LIST.refreshMs);
  models.close();
  assert.deepEqual(clock.pending(), []);
});

test("a Gemini provider's models are listed by their ids, without the models/ collection", async () => {
  const config = resolveConfig({ providers: { g: { type: "gemini", base_url: `${new URL(mock.url).origin}/v1beta`, api_key: "k" } } }, { env: {} }).providers.g;
  const prepared = prepareProvider(config, geminiAdapter);
  const gemini = new Map([["g", { prepared, adapter: geminiAdapter, transport: new HttpTransport(pools.get(prepared.origin)) }]]);
  const models = new UpstreamModels(gemini, new FakeClock(), () => 0);
  const ids = (await models.list(["configured"])).map((m) => m.id);
  models.close();
  assert.deepEqual(ids.slice(0, 3), ["configured", "g/model-0", "g/model-1"]);
  assert.equal(ids.length, 101);
});
