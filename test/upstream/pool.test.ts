import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

describe("connection pooling", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  before(async () => {
    mock = await startMockUpstream({ latencyMs: 20 });
    gw = await startGateway({
      providers: {
        a: { type: "openai", base_url: mock.url, pool: { connections: 2 } },
        // Same origin: shares a's pool.
        b: { type: "openai", base_url: mock.url },
      },
      models: { a: { targets: ["a/x"] }, b: { targets: ["b/x"] } },
    });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  test("sequential requests reuse one keep-alive connection", async () => {
    const before = mock.connections;
    for (let i = 0; i < 10; i++) assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("a"))).status, 200);
    assert.equal(mock.connections - before, 1);
  });

  test("pool.connections bounds the sockets to an origin, shared by providers on it", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(`${gw.url}/v1/chat/completions`, chat(i % 2 ? "a" : "b"))),
    );
    for (const r of results) assert.equal(r.status, 200);
    assert.ok(mock.openConnections <= 2, `${mock.openConnections} connections open, the pool allows 2`);
    assert.ok(mock.connections <= 2, `${mock.connections} connections made in all`);
  });
});
