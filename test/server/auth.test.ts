/** Gateway keys (server.auth): who may spend the provider keys behind the gateway. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { resolveConfig } from "../../src/config/load.ts";
import { exposureProblem, isLoopback } from "../../src/server/auth.ts";
import { tmpdir } from "node:os";
import { runCli } from "../cli/util.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { openaiError } from "./util.ts";

const KEY_A = "sy-test-key-aaaaaaaaaaaaaaaa";
const KEY_B = "sy-test-key-bbbbbbbbbbbbbbbb";

let gw: TestGateway;
before(async () => {
  gw = await startGateway(
    {
      server: { auth: { keys: [KEY_A, { key: KEY_B, name: "ci" }] } },
      providers: { demo: { type: "demo" } },
      models: { demo: { targets: ["demo/demo-1"] } },
    },
    { demoTokenGapMs: 0 },
  );
});
after(() => gw.close());

describe("with server.auth.keys", () => {
  test("a request without a key is a 401 in OpenAI's shape, naming both ways to send one", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"));
    assert.equal(res.status, 401);
    const error = openaiError(res.text);
    assert.equal(error.code, "invalid_api_key");
    assert.equal(error.switchyard_code, "SY_ERR_UNAUTHORIZED");
    assert.match(error.message, /Authorization: Bearer/);
    assert.match(error.message, /x-api-key/);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
  });

  test("a wrong key is a 401 that does not echo it", async () => {
    const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"), { authorization: "Bearer sy-wrong-key-cccccccccccc" });
    assert.equal(res.status, 401);
    assert.match(openaiError(res.text).message, /invalid gateway key/);
    assert.doesNotMatch(res.text, /sy-wrong-key/);
  });

  test("either configured key is accepted, as a bearer token or as x-api-key", async () => {
    const ways: Record<string, string>[] = [
      { authorization: `Bearer ${KEY_A}` },
      { authorization: `bearer ${KEY_B}` },
      { "x-api-key": KEY_A },
      { "x-api-key": KEY_B },
    ];
    for (const headers of ways) {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"), headers);
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.text}`);
    }
  });

  test("a key that is a prefix or an extension of a real one is refused", async () => {
    for (const key of [KEY_A.slice(0, -1), `${KEY_A}x`, KEY_A.toUpperCase()]) {
      const res = await post(`${gw.url}/v1/chat/completions`, chat("demo"), { authorization: `Bearer ${key}` });
      assert.equal(res.status, 401, key);
    }
  });

  test("the official SDK's apiKey is the gateway key", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: "demo", messages: [{ role: "user", content: "hi" }] });
    assert.ok(res.choices[0].message.content);
    const wrong = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "nope", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === "invalid_api_key");
  });

  test("/health stays open; /health/upstream and /v1/models need a key", async () => {
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    assert.equal((await fetch(`${gw.url}/health/upstream`)).status, 401);
    assert.equal((await fetch(`${gw.url}/v1/models`)).status, 401);
    assert.equal((await fetch(`${gw.url}/health/upstream`, { headers: { "x-api-key": KEY_B } })).status, 200);
    assert.equal((await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_A}` } })).status, 200);
  });

  test("an unknown path without a key is still a 404, not a hint about keys", async () => {
    assert.equal((await fetch(`${gw.url}/nope`)).status, 404);
  });
});

test("without keys nothing is asked for", async () => {
  const open = await startGateway({ providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } });
  try {
    assert.equal((await post(`${open.url}/v1/chat/completions`, chat("demo"))).status, 200);
  } finally {
    await open.close();
  }
});

describe("config", () => {
  test("keys are records with a name (key-N by default) so per-key settings can join them", () => {
    const config = resolveConfig({ server: { auth: { keys: [KEY_A, { key: KEY_B, name: "ci" }] } } }, { env: {} });
    assert.deepEqual(config.server.auth.keys, [
      { name: "key-1", key: KEY_A },
      { name: "ci", key: KEY_B },
    ]);
  });

  test("a short key, or one with spaces, is refused without quoting it", () => {
    for (const key of ["short", "has a space in the middle ok"]) {
      assert.throws(
        () => resolveConfig({ server: { auth: { keys: [key] } } }, { env: {} }),
        (err: Error) => /server\.auth\.keys\[0\]\.key/.test(err.message) && !err.message.includes(key),
      );
    }
  });

  test("an unset ${VAR} key is an error, not an empty key that lets everyone in", () => {
    assert.throws(() => resolveConfig({ server: { auth: { keys: ["${SWITCHYARD_API_KEY}"] } } }, { env: {} }), /SWITCHYARD_API_KEY/);
  });

  test("without a config file, SWITCHYARD_API_KEY is the gateway key", async () => {
    const { configFromEnv } = await import("../../src/config/defaults.ts");
    assert.deepEqual(configFromEnv({ SWITCHYARD_API_KEY: KEY_A }).server.auth.keys, [{ name: "SWITCHYARD_API_KEY", key: KEY_A }]);
    assert.deepEqual(configFromEnv({}).server.auth.keys, []);
  });
});

describe("listening beyond loopback", () => {
  test("loopback addresses are told apart from the rest", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) assert.ok(isLoopback(h), h);
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.com", "::ffff:10.0.0.1"]) assert.ok(!isLoopback(h), h);
  });

  test("is refused without keys, unless allow_unauthenticated says it is meant", () => {
    const none = { keys: [], allowUnauthenticated: false };
    assert.match(exposureProblem("0.0.0.0", none) ?? "", /server\.auth\.keys/);
    assert.equal(exposureProblem("127.0.0.1", none), undefined);
    assert.equal(exposureProblem("0.0.0.0", { keys: [], allowUnauthenticated: true }), undefined);
    assert.equal(exposureProblem("0.0.0.0", { keys: [{ name: "k", key: KEY_A }], allowUnauthenticated: false }), undefined);
  });

  test("`serve --host 0.0.0.0` without keys exits 1 saying what to set", async () => {
    const r = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], { cwd: tmpdir() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without gateway keys/);
    assert.match(r.stderr, /allow_unauthenticated/);
  });
});
