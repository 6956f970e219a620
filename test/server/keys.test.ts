/**
 * Several keys per provider: used in turn, a refused or exhausted key benched
 * (on the engine's clock) while the others serve, and a client that nothing
 * could serve told that the provider's credentials failed, never which key.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { KEY_BENCH } from "../../src/upstream/keys.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { openaiError } from "./util.ts";

const GOOD = "good-key-0123456789";
const SPENT = "spent-key-0123456789";
const BAD = ["bad-key-one-0123456789", "bad-key-two-0123456789"];
const ALL_KEYS = [GOOD, SPENT, ...BAD];

/** The key each request to the mock carried, in order. */
function keysSeen(mock: MockUpstream): string[] {
  return mock.requests.map((r) => String(r.headers.authorization).replace(/^Bearer /, ""));
}

function assertNoKey(text: string, where: string): void {
  for (const key of ALL_KEYS) assert.ok(!text.includes(key), `${where} shows a key: ${text}`);
}

describe("key rotation", () => {
  let mock: MockUpstream;
  let backup: MockUpstream;
  let gw: TestGateway;
  const clock = new FakeClock();

  before(async () => {
    mock = await startMockUpstream({ apiKey: [GOOD, SPENT], quotaKeys: [SPENT] });
    backup = await startMockUpstream();
    gw = await startGateway(
      {
        providers: {
          rotating: { type: "openai", base_url: mock.url, api_keys: [BAD[0], GOOD, BAD[1]] },
          spent: { type: "openai", base_url: mock.url, api_key: SPENT, api_keys: [GOOD] },
          refused: { type: "openai", base_url: mock.url, api_keys: BAD },
          backup: { type: "openai", base_url: backup.url, api_key: "backup-key" },
        },
        models: {
          chat: { targets: ["rotating/gpt"], retry: { attempts: 1 } },
          spent: { targets: ["spent/gpt"], retry: { attempts: 1 } },
          refused: { targets: ["refused/gpt"], retry: { attempts: 1 } },
          "refused-then-backup": { targets: ["refused/gpt", { provider: "backup", model: "gpt-b", priority: 1 }], retry: { attempts: 2 } },
        },
      },
      { clock, random: () => 0 },
    );
  });
  after(async () => {
    await gw.close();
    await mock.close();
    await backup.close();
  });
  beforeEach(() => {
    mock.reset();
    backup.reset();
  });

  test("a refused key is benched and the next key serves the same attempt; after the bench it is tried again", async () => {
    const send = async () => {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("chat"));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("x-switchyard-attempts"), "1", "key changes happen inside one attempt");
    };
    await send(); // turn of key 0: refused and benched, key 1 serves
    await send(); // turn of key 1
    await send(); // turn of key 2: refused and benched, key 0 is benched, key 1 serves
    await send(); // turn of key 0: benched, so key 1
    assert.deepEqual(keysSeen(mock), [BAD[0], GOOD, GOOD, BAD[1], GOOD, GOOD]);

    mock.reset();
    clock.advance(KEY_BENCH.baseMs - 1);
    await send();
    assert.deepEqual(keysSeen(mock), [GOOD], "still benched a millisecond before the bench ends");

    mock.reset();
    clock.advance(1);
    await send(); // turn of key 2, back from the bench: refused again, then key 0, back too: refused again
    assert.deepEqual(keysSeen(mock), [BAD[1], BAD[0], GOOD]);

    mock.reset();
    clock.advance(KEY_BENCH.baseMs);
    await send();
    await send();
    await send();
    assert.deepEqual(keysSeen(mock), [GOOD, GOOD, GOOD], "a second refusal in a row benches for longer");
  });

  test("a key out of quota (429 insufficient_quota) is benched like a refused one", async () => {
    const first = await post(`${gw.url}/v1/chat/completions`, chat("spent"));
    assert.equal(first.status, 200, first.text);
    const second = await post(`${gw.url}/v1/chat/completions`, chat("spent"));
    assert.equal(second.status, 200);
    assert.deepEqual(keysSeen(mock), [SPENT, GOOD, GOOD]);
    assert.equal(mock.requests[0].status, 429);
  });

  test("every key refused: a 502 SY_ERR_UPSTREAM_AUTH naming the provider, no key in the body", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("refused"));
    assert.equal(res.status, 502);
    assertNoKey(res.text, "the error body");
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_UPSTREAM_AUTH");
    assert.equal(error.switchyard_code, "SY_ERR_UPSTREAM_AUTH");
    assert.equal(error.type, "upstream_error");
    assert.match(error.message, /^provider "refused": /);
    assert.equal(mock.requests.length, 2, "each key once");
    assert.deepEqual(new Set(keysSeen(mock)), new Set(BAD));

    // Both benched now: the next request tries only the key back first, once.
    mock.reset();
    const again = await post(`${gw.url}/v1/chat/completions`, chat("refused"));
    assert.equal(again.status, 502);
    assert.match(openaiError(again.text).message, /^provider "refused": every key is benched after failing; the one tried again: key refused \(401 invalid_api_key\)/);
    assert.equal(mock.requests.length, 1);
  });

  test("once a provider's keys are used up, failover moves on to the next target", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("refused-then-backup"));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-switchyard-target"), "backup/gpt-b");
    assert.equal(res.headers.get("x-switchyard-attempts"), "2");
    assert.equal(backup.requests.length, 1);
  });

  test("/health/upstream and the streamed refusal show no key either", async () => {
    const stream = await post(`${gw.url}/v1/chat/completions`, chat("refused", { stream: true }));
    assert.equal(stream.status, 502);
    assertNoKey(stream.text, "the streamed request's error");
    const health = await (await fetch(`${gw.url}/health/upstream`)).text();
    assertNoKey(health, "/health/upstream");
    const report = JSON.parse(health) as { providers: Record<string, { status?: number; last_error_code?: string }> };
    assert.equal(report.providers.refused.status, 401, "the probe reports the upstream's own status");
    assert.equal(report.providers.refused.last_error_code, "SY_ERR_UPSTREAM_AUTH");
  });
});
