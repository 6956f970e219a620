/**
 * GET /v1/models: the configured names, then each upstream's own list as
 * provider/model, fetched with the provider's probe, cached and refreshed on
 * the engine's clock, bounded, and never held up by a slow or failing upstream.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { MODEL_LIST } from "../../src/upstream/model-list.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";
import { closedPort } from "./util.ts";

interface ModelList {
  object: string;
  data: Array<{ id: string; object: string; owned_by: string }>;
}

async function listModels(url: string): Promise<ModelList> {
  const res = await fetch(`${url}/v1/models`);
  assert.equal(res.status, 200);
  return (await res.json()) as ModelList;
}

const modelGets = (mock: MockUpstream) => mock.requests.filter((r) => r.method === "GET" && r.path === "/v1/models");

describe("upstream model lists", () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream({ models: ["alpha", "beta"], apiKey: ["good-key"] });
  });
  after(() => mock.close());

  test("listed as provider/model, owned by the provider, after the configured names; fetched once, then cached", async (t) => {
    mock.reset();
    const clock = new FakeClock();
    const gw = await startGateway(
      {
        providers: { up: { type: "openai", base_url: mock.url, api_key: "good-key" }, quiet: { type: "openai", base_url: mock.url, list_models: false } },
        models: { chat: { targets: ["up/alpha"] }, "up/beta": { targets: ["up/beta"] } },
      },
      { clock },
    );
    t.after(() => gw.close());
    const body = await listModels(gw.url);
    assert.equal(body.object, "list");
    assert.deepEqual(
      body.data.map((m) => [m.id, m.owned_by]),
      [
        ["chat", "switchyard"],
        ["up/beta", "switchyard"],
        ["up/alpha", "up"],
      ],
      "a configured name is not listed twice; a provider with list_models: false is not asked",
    );
    for (const m of body.data) assert.equal(m.object, "model");
    assert.equal(modelGets(mock).length, 1);
    assert.equal(modelGets(mock)[0].headers.authorization, "Bearer good-key");

    const ids: string[] = [];
    for await (const m of gw.client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["chat", "up/beta", "up/alpha"]);
    assert.equal(modelGets(mock).length, 1, "served from the cache");
  });

  test("refreshed in the background on the engine's clock; a failing refresh keeps the last list", async (t) => {
    mock.reset();
    mock.setModels(["alpha", "beta"]);
    const clock = new FakeClock();
    const gw = await startGateway({ providers: { up: { type: "openai", base_url: mock.url, api_key: "good-key" } }, models: {} }, { clock });
    t.after(async () => {
      await gw.close();
      mock.setModels(["alpha", "beta"]);
    });
    assert.deepEqual((await listModels(gw.url)).data.map((m) => m.id), ["up/alpha", "up/beta"]);
    await clock.waitForTimer((ms) => ms === MODEL_LIST.refreshMs);

    mock.setModels(["gamma"]);
    clock.advance(MODEL_LIST.refreshMs - 1);
    assert.deepEqual((await listModels(gw.url)).data.map((m) => m.id), ["up/alpha", "up/beta"], "not before its time");
    assert.equal(modelGets(mock).length, 1);
    clock.advance(1);
    await clock.waitForTimer((ms) => ms === MODEL_LIST.refreshMs);
    assert.equal(modelGets(mock).length, 2);
    assert.deepEqual((await listModels(gw.url)).data.map((m) => m.id), ["up/gamma"]);

    mock.setFault("status=500", { times: 1 });
    clock.advance(MODEL_LIST.refreshMs);
    await clock.waitForTimer((ms) => ms === MODEL_LIST.refreshMs);
    assert.equal(modelGets(mock).length, 3);
    assert.equal(modelGets(mock)[2].status, 500);
    assert.deepEqual((await listModels(gw.url)).data.map((m) => m.id), ["up/gamma"]);
  });

  test("a key on the bench is not used for the listing", async (t) => {
    mock.reset();
    const clock = new FakeClock();
    const gw = await startGateway(
      { providers: { up: { type: "openai", base_url: mock.url, api_keys: ["bad-key", "good-key"] } }, models: { chat: { targets: ["up/alpha"], retry: { attempts: 1 } } } },
      { clock },
    );
    t.after(() => gw.close());
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("chat"))).status, 200);
    await listModels(gw.url);
    assert.equal(modelGets(mock)[0].headers.authorization, "Bearer good-key");
  });
});

describe("what the upstreams cannot do to the list", () => {
  test("a slow upstream holds the first request for a bounded time, then the configured names are served", async (t) => {
    const slow = await startMockUpstream({ fault: "stall-headers" });
    t.after(() => slow.close());
    const clock = new FakeClock();
    const gw = await startGateway({ providers: { slow: { type: "openai", base_url: slow.url } }, models: { chat: { targets: ["slow/x"] } } }, { clock });
    t.after(() => gw.close());
    const arrived = once(slow, "request");
    const pending = listModels(gw.url);
    await arrived;
    await clock.waitForTimer((ms) => ms === MODEL_LIST.firstWaitMs);
    clock.advance(MODEL_LIST.firstWaitMs);
    assert.deepEqual((await pending).data.map((m) => m.id), ["chat"]);
    assert.equal(slow.holding().length, 1, "the upstream is still being waited for, in the background");
    assert.deepEqual((await listModels(gw.url)).data.map((m) => m.id), ["chat"], "later requests do not wait at all");
    const gaveUp = once(slow, "abort");
    clock.advance(MODEL_LIST.fetchBudgetMs);
    await gaveUp;
    await clock.waitForTimer((ms) => ms === MODEL_LIST.refreshMs);
    assert.equal(slow.holding().length, 0, "the fetch was given up at its budget, and the next round scheduled");
  });

  test("an unreachable or failing upstream leaves the configured names", async (t) => {
    const failing = await startMockUpstream({ fault: "status=503" });
    t.after(() => failing.close());
    const gw = await startGateway({
      providers: {
        down: { type: "openai", base_url: `http://127.0.0.1:${await closedPort()}/v1` },
        sick: { type: "openai", base_url: failing.url },
      },
      models: { chat: { targets: ["down/x", "sick/y"] } },
    });
    t.after(() => gw.close());
    assert.deepEqual((await listModels(gw.url)).data.map((m) => m.id), ["chat"]);
  });

  test("a huge list is cut to the first maxModels ids; ids that are no model names are dropped", async (t) => {
    const names = Array.from({ length: MODEL_LIST.maxModels + 500 }, (_, i) => `m-${i}`);
    const huge = await startMockUpstream({ models: ["has space", "", "x".repeat(300), ...names, "m-0"] });
    t.after(() => huge.close());
    const gw = await startGateway({ providers: { big: { type: "openai", base_url: huge.url } }, models: {} });
    t.after(() => gw.close());
    const ids = (await listModels(gw.url)).data.map((m) => m.id);
    assert.equal(ids.length, MODEL_LIST.maxModels);
    assert.equal(ids[0], "big/m-0");
    assert.equal(ids.at(-1), `big/m-${MODEL_LIST.maxModels - 1}`);
  });
});
