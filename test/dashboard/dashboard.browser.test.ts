/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. Two targets on two mock upstreams; one starts failing, its
 * breaker opens, and the page (which nobody reloads) shows it unhealthy with
 * a recovery countdown while the other stays healthy, and the live tail lists
 * the requests. Skipped where no Chromium is installed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`;
const ADMIN = "admin-key-0123456789abcdef";
/** Generous: the browser shares a loaded machine. The page itself refreshes every 2 s, and 250 ms after a failure. */
const WAIT = { timeout: 60_000 };

describe("dashboard in headless Chromium", { skip: missing }, () => {
  let healthy: MockUpstream;
  let failing: MockUpstream;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const policyViolations: string[] = [];

  before(async () => {
    healthy = await startMockUpstream();
    failing = await startMockUpstream();
    gw = await startGateway({
      server: { admin_key: ADMIN },
      defaults: { breaker: { consecutive: 2, recovery: "10m" } },
      providers: { steady: { type: "openai", base_url: healthy.url }, flaky: { type: "openai", base_url: failing.url } },
      models: {
        "steady-model": { targets: ["steady/m1"], retry: { attempts: 1 } },
        "flaky-model": { targets: ["flaky/m2"], retry: { attempts: 1 } },
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives each launch a fresh temporary profile (its own --user-data-dir).
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    // The browser's Basic login, as an operator would type it at the prompt.
    const context = await browser.newContext({ httpCredentials: { username: "operator", password: ADMIN } });
    page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (/Content Security Policy/i.test(msg.text())) policyViolations.push(msg.text());
    });
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await healthy?.close();
    await failing?.close();
  });

  const row = (target: string, health: string) => page.locator(`#targets tr[data-target="${target}"][data-health="${health}"]`);

  test("lists both targets healthy, then shows the failing one unhealthy with its breaker open, and the requests in the live tail", async () => {
    const res = await page.goto(gw.url);
    assert.equal(res?.status(), 200);
    await row("steady/m1", "healthy").waitFor(WAIT);
    await row("flaky/m2", "healthy").waitFor(WAIT);
    await page.locator('#connection[data-live="true"]').waitFor(WAIT);

    const ask = (model: string, id: string) => post(`${gw.url}/v1/chat/completions`, chat(model), { "x-request-id": id });
    assert.equal((await ask("steady-model", "steady-1")).status, 200);
    failing.setFault("status=503");
    for (const id of ["flaky-1", "flaky-2"]) assert.equal((await ask("flaky-model", id)).status, 503);
    // The breaker is open now: the gateway answers without calling the upstream.
    const refused = await ask("flaky-model", "flaky-3");
    assert.equal(refused.status, 503);
    assert.match(refused.text, /SY_ERR_NO_HEALTHY_TARGET|no healthy target/i);

    const sick = row("flaky/m2", "unhealthy");
    await sick.waitFor(WAIT);
    assert.match((await sick.locator('[data-breaker="open"]').textContent()) ?? "", /open · 1 trip/);
    assert.match((await sick.locator(".countdown").textContent()) ?? "", /^\d+m \d\ds$|^\d+s$/);
    assert.equal(await row("steady/m1", "healthy").count(), 1, "the other target stays healthy");
    // From /v1/metrics when served, else worked out from the tail: both failed attempts on it.
    await sick.locator("td.errors", { hasText: "100%" }).waitFor(WAIT);
    await row("steady/m1", "healthy").locator("td.errors", { hasText: "0%" }).waitFor(WAIT);
    assert.equal(await page.locator("#status").getAttribute("data-health"), "degraded");

    for (const id of ["steady-1", "flaky-1", "flaky-2", "flaky-3"]) await page.locator(`#tail tr[data-request="${id}"]`).waitFor(WAIT);
    const flakyRow = page.locator('#tail tr[data-request="flaky-1"]');
    assert.equal(await flakyRow.locator(".status").textContent(), "503");
    assert.equal(await flakyRow.locator(".target").textContent(), "flaky/m2");
    assert.equal(await page.locator('#tail tr[data-request="steady-1"] .status').textContent(), "200");
    // Newest first.
    assert.equal(await page.locator("#tail tbody tr").first().getAttribute("data-request"), "flaky-3");

    // The latency and TTFT sparklines are drawn, from the metrics the state carries.
    // (A lone point is a flat dash: attached, though Playwright counts a zero-height box as hidden.)
    await row("steady/m1", "healthy").locator("svg.spark polyline.p50").first().waitFor({ ...WAIT, state: "attached" });
    assert.equal(await page.locator("#notice").isHidden(), true);
    if (process.env.DASHBOARD_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(policyViolations, []);
  });

  test("without the admin key the browser gets the Basic login challenge, not the page", async () => {
    const context = await browser.newContext();
    try {
      const p = await context.newPage();
      const answered = p.waitForResponse(`${gw.url}/`);
      // Headless Chromium has no prompt to show: it gives up on the navigation after the challenge.
      await p.goto(gw.url).catch((err: Error) => assert.match(err.message, /ERR_INVALID_AUTH_CREDENTIALS/));
      const res = await answered;
      assert.equal(res.status(), 401);
      assert.match((await res.headerValue("www-authenticate")) ?? "", /^Basic realm=/);
      assert.equal(await p.locator("#targets").count(), 0);
    } finally {
      await context.close();
    }
  });

  test("with server.metrics: false the page says so and works rates out from the live tail", async () => {
    const bare = await startGateway({
      server: { metrics: false },
      providers: { steady: { type: "openai", base_url: healthy.url } },
      models: { "steady-model": { targets: ["steady/m1"], retry: { attempts: 1 } } },
    });
    const context = await browser.newContext();
    try {
      const p = await context.newPage();
      p.on("pageerror", (err) => pageErrors.push(err.message));
      await p.goto(bare.url);
      await p.locator("#notice", { hasText: "Metrics unavailable" }).waitFor(WAIT);
      await p.locator('#connection[data-live="true"]').waitFor(WAIT);
      assert.equal((await post(`${bare.url}/v1/chat/completions`, chat("steady-model"), { "x-request-id": "bare-1" })).status, 200);
      await p.locator('#tail tr[data-request="bare-1"]').waitFor(WAIT);
      const steady = p.locator('#targets tr[data-target="steady/m1"][data-health="healthy"]');
      await steady.locator("td.errors", { hasText: "0%" }).waitFor(WAIT);
      assert.match((await p.locator("#rps").textContent()) ?? "", /^\d+\.\d\d$/);
      assert.deepEqual(pageErrors, []);
    } finally {
      await context.close();
      await bare.close();
    }
  });
});
