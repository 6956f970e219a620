/**
 * Active health checks: on the engine's clock, token-free, feeding the
 * provider's breaker (failing checks eject it, a passing one readmits it),
 * with a chat probe for upstreams without a model listing, and timers that
 * never keep a process alive.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { resolveConfig } from "../../src/config/load.ts";
import { Engine } from "../../src/engine/gateway.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { cleanEnv } from "../cli/util.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";

/** An upstream of our own making: `answer` decides every reply. */
async function fakeUpstream(answer: (req: IncomingMessage, body: string) => { status: number; json: unknown }) {
  const seen: Array<{ method: string; path: string; body: string }> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method!, path: req.url!, body });
      const { status, json } = answer(req, body);
      const text = JSON.stringify(json);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const MODEL_NOT_FOUND = { error: { message: "The model does not exist", type: "invalid_request_error", code: "model_not_found" } };
const ROUTE_NOT_FOUND = { detail: "Not Found" };

function engineFor(providers: Record<string, unknown>): Engine {
  return new Engine(resolveConfig({ providers, models: {} }, { env: {}, source: "test" }));
}

describe("active health checks", () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(() => mock.close());

  test("run on the engine's clock: the first after a random part of the interval, then every interval ±10%, each a model listing", async (t) => {
    mock.reset();
    const clock = new FakeClock();
    const gw = await startGateway(
      { providers: { p: { type: "openai", base_url: mock.url, health_check: { interval: "30s" } } }, models: { m: { targets: ["p/x"] } } },
      { clock, random: () => 0.5 },
    );
    t.after(() => gw.close());
    assert.equal(await clock.waitForTimer((ms) => ms === 15_000), 15_000);
    assert.equal(mock.requests.length, 0, "nothing before the timer fires");
    const probed = once(mock, "request");
    clock.advance(15_000);
    const [req] = (await probed) as [{ method: string; path: string }];
    assert.deepEqual([req.method, req.path], ["GET", "/v1/models"]);
    assert.equal(await clock.waitForTimer((ms) => ms === 30_000), 30_000, "the next one is scheduled when this one is done");
    const health = (await (await fetch(`${gw.url}/health/upstream`)).json()) as {
      providers: Record<string, { healthy: boolean; probe: string; status: number; check_interval_s: number; checked_at: string }>;
    };
    const p = health.providers.p;
    assert.equal(p.healthy, true);
    assert.equal(p.probe, "models");
    assert.equal(p.status, 200);
    assert.equal(p.check_interval_s, 30);
    assert.equal(p.checked_at, new Date(clock.now()).toISOString(), "the report shows the check, not a probe of its own");
    assert.equal(mock.requests.length, 1);
  });

  test("a check's model listing refreshes the upstream model list of GET /v1/models", async (t) => {
    let ids = ["a"];
    const up = await fakeUpstream((req) => (req.method === "GET" ? { status: 200, json: { object: "list", data: ids.map((id) => ({ id, object: "model" })) } } : { status: 500, json: {} }));
    const clock = new FakeClock();
    const engine = new Engine(
      resolveConfig({ providers: { p: { type: "openai", base_url: up.url, health_check: { interval: "30s" } } }, models: {} }, { env: {}, source: "test" }),
      { clock, random: () => 0.5 },
    );
    t.after(async () => {
      await engine.close();
      await up.close();
    });
    assert.deepEqual((await engine.models()).map((m) => m.id), ["p/a"]);
    ids = ["a", "b"];
    await clock.waitForTimer((ms) => ms === 15_000);
    clock.advance(15_000);
    await clock.waitForTimer((ms) => ms === 30_000);
    assert.deepEqual((await engine.models()).map((m) => m.id), ["p/a", "p/b"]);
    assert.equal(up.seen.length, 2, "the list's own fetch, then the check's");
  });

  test("failing checks eject the provider: requests fail fast; a passing check readmits it (half-open)", async (t) => {
    mock.reset();
    const clock = new FakeClock();
    const gw = await startGateway(
      {
        providers: { p: { type: "openai", base_url: mock.url, health_check: { interval: "10s", unhealthy_threshold: 2 } } },
        models: { m: { targets: ["p/x"], retry: { attempts: 1 } } },
      },
      { clock, random: () => 0 },
    );
    t.after(() => gw.close());
    const check = async () => {
      const ms = await clock.waitForTimer((d) => d >= 1 && d <= 10_000);
      const done = once(mock, "request");
      clock.advance(ms);
      await done;
      // The result is recorded and the next check scheduled once the probe's answer is read.
      await clock.waitForTimer((d) => d === 9000);
    };
    mock.setFault("status=503");
    await check();
    let res = await post(`${gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(res.status, 503, "the upstream's own 503: one failed check is not enough");
    assert.equal(JSON.parse(res.text).error.switchyard_code, "SY_ERR_UPSTREAM_STATUS");
    await check();
    const before = mock.requests.length;
    res = await post(`${gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.text).error.switchyard_code, "SY_ERR_NO_HEALTHY_TARGET");
    assert.match(JSON.parse(res.text).error.message, /provider "p": circuit breaker open/);
    assert.equal(mock.requests.length, before, "an ejected provider gets no request");
    mock.setFault(null);
    await check();
    const health = (await (await fetch(`${gw.url}/health/upstream`)).json()) as { providers: Record<string, { breaker: { state: string } }> };
    assert.equal(health.providers.p.breaker.state, "half_open", "readmitted well before its 60 s recovery");
    res = await post(`${gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(res.status, 200);
  });

  test("an upstream without a model listing is asked for a chat with a model that cannot exist: its refusal proves it alive", async (t) => {
    const up = await fakeUpstream((req) =>
      req.method === "GET" ? { status: 404, json: ROUTE_NOT_FOUND } : { status: 404, json: MODEL_NOT_FOUND },
    );
    const only405 = await fakeUpstream((req) => (req.method === "GET" ? { status: 405, json: {} } : { status: 400, json: MODEL_NOT_FOUND }));
    const engine = engineFor({ up: { type: "openai", base_url: up.url }, only405: { type: "openai", base_url: only405.url } });
    t.after(async () => {
      await engine.close();
      await up.close();
      await only405.close();
    });
    const report = await engine.providerHealth();
    assert.equal(report.up.healthy, true);
    assert.equal(report.up.probe, "chat");
    assert.equal(report.up.status, 404);
    assert.equal(report.only405.healthy, true);
    assert.equal(report.only405.status, 400);
    const chatProbe = up.seen.find((s) => s.method === "POST")!;
    assert.equal(chatProbe.path, "/v1/chat/completions");
    const sent = JSON.parse(chatProbe.body) as { model: string; max_tokens: number };
    assert.equal(sent.model, "switchyard-health-probe");
    assert.equal(sent.max_tokens, 1);
  });

  test("a wrong base_url answers every path alike: not healthy, and the listing's 404 is what the report shows", async (t) => {
    const engine = engineFor({ nov1: { type: "openai", base_url: mock.url.replace(/\/v1$/, "") } });
    t.after(() => engine.close());
    const report = await engine.providerHealth();
    assert.equal(report.nov1.healthy, false);
    assert.equal(report.nov1.probe, "models");
    assert.equal(report.nov1.status, 404);
    assert.match(String(report.nov1.last_error), /Unknown request URL: GET \/models/);
  });

  test("a configured path or model replaces the listing", async (t) => {
    const up = await fakeUpstream((req) => (req.url === "/v1/healthz" ? { status: 200, json: { ok: true } } : { status: 500, json: {} }));
    mock.reset();
    const engine = engineFor({
      byPath: { type: "openai", base_url: up.url, health_check: { path: "/healthz" } },
      byModel: { type: "openai", base_url: mock.url, health_check: { model: "tiny-model" } },
    });
    t.after(async () => {
      await engine.close();
      await up.close();
    });
    const report = await engine.providerHealth();
    assert.deepEqual([report.byPath.healthy, report.byPath.probe], [true, "path"]);
    assert.deepEqual([report.byModel.healthy, report.byModel.probe, report.byModel.status], [true, "chat", 200]);
    assert.deepEqual(
      mock.requests.map((r) => [r.method, r.path, r.body?.model, r.body?.max_tokens]),
      [["POST", "/v1/chat/completions", "tiny-model", 1]],
    );
  });

  test("probes send a key that is not benched", async (t) => {
    const guarded = await startMockUpstream({ apiKey: "right-key-1111" });
    const gw = await startGateway({
      providers: { p: { type: "openai", base_url: guarded.url, api_keys: ["wrong-key-0000", "right-key-1111"] } },
      models: { m: { targets: ["p/x"] } },
    });
    t.after(async () => {
      await gw.close();
      await guarded.close();
    });
    // The first key is refused and benched; the second serves.
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chat("m"))).status, 200);
    const report = await gw.engine.providerHealth();
    assert.equal(report.p.healthy, true);
    assert.equal(guarded.requests.at(-1)?.headers.authorization, "Bearer right-key-1111");
  });

  test("a disabled provider is neither checked nor probed, and shown as disabled", async (t) => {
    mock.reset();
    const engine = engineFor({ off: { type: "openai", base_url: mock.url, disabled: true, health_check: true } });
    t.after(() => engine.close());
    const report = await engine.providerHealth();
    assert.equal(report.off.disabled, true);
    assert.equal(mock.requests.length, 0);
  });

  test("their timers never keep a process alive", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-checks-"));
    try {
      const entry = pathToFileURL(new URL("../../src/index.ts", import.meta.url).pathname).href;
      const file = join(dir, "checks.mts");
      await writeFile(
        file,
        `import { createGateway } from ${JSON.stringify(entry)};
const gw = await createGateway({
  providers: { p: { type: "openai", base_url: ${JSON.stringify(mock.url)}, health_check: { interval: "1m" } } },
  models: { m: { targets: ["p/x"] } },
});
console.log("started, not closed");
`,
      );
      const child = spawn(process.execPath, [file], { cwd: dir, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      // A guard, not a measure: a process a timer holds would otherwise hang the suite instead of failing it.
      const guard = setTimeout(() => child.kill(), 30_000);
      const [code] = (await once(child, "close")) as [number | null];
      clearTimeout(guard);
      assert.equal(code, 0, "the process ended on its own");
      assert.equal(out, "started, not closed\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
