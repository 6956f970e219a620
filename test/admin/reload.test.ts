import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { Engine } from "../../src/engine/gateway.ts";
import { startMockUpstream } from "../../src/mock/index.ts";
import { createHttpServer, listen } from "../../src/server/http.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post } from "../helpers/gateway.ts";
import { ADMIN_KEY, admin, pump, streamRequest } from "./helpers.ts";

const yaml = (providers: Record<string, string>, target: string, extra = "") =>
  [
    "server:",
    `  admin_key: ${ADMIN_KEY}`,
    "providers:",
    ...Object.entries(providers).flatMap(([name, url]) => [`  ${name}:`, "    type: openai", `    base_url: ${url}`]),
    "models:",
    "  m:",
    `    targets: [${target}]`,
    extra,
  ].join("\n");

/**
 * A config file in a directory of its own with `text`, and a gateway serving
 * it; the gateway, the upstreams given and the directory go when the test ends.
 */
async function gatewayWithFile(t: TestContext, text: string, upstreams: Array<{ close(): Promise<void> }>) {
  const dir = await mkdtemp(join(tmpdir(), "sy-reload-"));
  const file = join(dir, "switchyard.yaml");
  await writeFile(file, text);
  const gw = await gatewayFrom(file);
  t.after(async () => {
    await gw.close();
    for (const u of upstreams) await u.close();
    await rm(dir, { recursive: true });
  });
  return { gw, file };
}

async function gatewayFrom(file: string) {
  const engine = new Engine(await loadConfig({ path: file, env: {} }));
  const running = await listen(createHttpServer(engine), "127.0.0.1", 0);
  return {
    url: running.url,
    engine,
    async close() {
      await running.close();
      await engine.close();
    },
  };
}

describe("config reload", () => {
  test("a stream in flight completes on the old upstream while the next request goes to the new one; the old pool closes after", async (t) => {
    const clock = new FakeClock();
    const a = await startMockUpstream({ tokens: 4, tokensPerSecond: 10, clock });
    const b = await startMockUpstream();
    const { gw, file } = await gatewayWithFile(t, yaml({ a: a.url }, "a/x"), [a, b]);
    const res = await streamRequest(gw.url, "m");
    assert.equal(res.headers.get("x-switchyard-target"), "a/x");

    await writeFile(file, yaml({ b: b.url }, "b/y"));
    const reloaded = await admin(gw.url, "POST", "/admin/reload");
    assert.equal(reloaded.status, 200, reloaded.text);
    assert.deepEqual(reloaded.body.needs_restart, []);
    assert.equal(gw.engine.retiring, 1, "the old generation still serves its stream");

    const next = await post(`${gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(next.status, 200);
    assert.equal(next.headers.get("x-switchyard-target"), "b/y");
    assert.equal(b.requests.length, 1);
    // The statistics count the new target from the reload on.
    // An operator's page: with server.admin_key set, it takes the admin key.
    const metrics = (await (await fetch(`${gw.url}/v1/metrics`, { headers: { "x-admin-key": ADMIN_KEY } })).json()) as { targets: Record<string, unknown> };
    assert.ok(metrics.targets["b/y"] !== undefined, JSON.stringify(Object.keys(metrics.targets)));

    const text = await pump(clock, res.text());
    assert.ok(text.endsWith("data: [DONE]\n\n"), "the stream in flight is not dropped");
    assert.doesNotMatch(text, /"error"/);
    assert.equal(a.requests.length, 1);
    assert.equal(a.requests[0].aborted, false);
    // Released once its last request ended: the pool to the removed upstream goes with it.
    for (let i = 0; i < 50 && gw.engine.retiring > 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(gw.engine.retiring, 0);
  });

  test("an invalid config is rejected with its problems, and the old one keeps serving", async (t) => {
    const up = await startMockUpstream();
    const { gw, file } = await gatewayWithFile(t, yaml({ a: up.url }, "a/x"), [up]);
    await writeFile(file, yaml({ a: up.url }, "nowhere/x", "    retry: { attempts: -1 }"));
    const res = await admin(gw.url, "POST", "/admin/reload");
    assert.equal(res.status, 400);
    assert.equal(res.body.error.switchyard_code, "SY_ERR_BAD_REQUEST");
    assert.ok(res.body.error.problems.length >= 2, res.text);
    assert.ok(res.body.error.problems.some((p: string) => p.includes("nowhere")), res.text);
    assert.equal(gw.engine.retiring, 0, "nothing was swapped");
    const still = await post(`${gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(still.status, 200);
    assert.equal(still.headers.get("x-switchyard-target"), "a/x");
  });

  test("the pool to an unchanged upstream is kept (no new connection); one whose pool settings change gets a new pool", async (t) => {
    const up = await startMockUpstream();
    const { gw, file } = await gatewayWithFile(t, yaml({ a: up.url }, "a/x"), [up]);
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("m"))).status, 200);
    assert.equal(up.connections, 1);
    // The models change, the provider does not.
    await writeFile(file, yaml({ a: up.url }, "a/x, a/z"));
    assert.equal((await admin(gw.url, "POST", "/admin/reload")).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("m"))).status, 200);
    assert.equal(up.connections, 1, "the kept pool reuses its connection");
    const changed = yaml({ a: up.url }, "a/x").replace("    base_url:", "    pool: { connections: 3 }\n    base_url:");
    await writeFile(file, changed);
    assert.equal((await admin(gw.url, "POST", "/admin/reload")).status, 200);
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("m"))).status, 200);
    assert.equal(up.connections, 2, "a pool planned differently is a new pool");
  });

  test("runtime switches survive a reload unless the config changes what they name; server settings need a restart", async (t) => {
    const up = await startMockUpstream();
    const { gw, file } = await gatewayWithFile(t, yaml({ a: up.url, b: up.url }, "a/x, b/y"), [up]);
    await admin(gw.url, "POST", "/admin/providers/a/disable");
    await admin(gw.url, "POST", "/admin/providers/b/drain");
    // b changes (a header), a does not; the port changes too.
    const next = yaml({ a: up.url, b: up.url }, "a/x, b/y").replace(`  b:\n    type: openai`, `  b:\n    type: openai\n    headers: { x-team: blue }`);
    await writeFile(file, next.replace("server:", "server:\n  port: 4999"));
    const res = await admin(gw.url, "POST", "/admin/reload");
    assert.deepEqual(res.body.needs_restart, ["server.port"]);
    assert.deepEqual(res.body.dropped_switches, ["b"]);
    const states = (await admin(gw.url, "GET", "/admin/targets")).body.providers;
    assert.equal(states.a.state, "disabled");
    assert.equal(states.b.state, "enabled");
  });
});
