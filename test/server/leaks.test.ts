/**
 * An upstream that echoes the provider key into its error fields, or cuts it
 * across an excerpt boundary, must not get it (or any part of it) to the
 * client, the health page or the logs.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Logger } from "../../src/telemetry/log.ts";
import { chat, post, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { HostileUpstream } from "../helpers/hostile-upstream.ts";
import { openaiError } from "./util.ts";

/** Not shaped like a known provider key: only the configured-key redaction can catch it. */
const CANARY = "tok-SECRET-canary-0123456789";
/** Every 6-character piece of the canary: none may appear anywhere. */
const PIECES = Array.from({ length: CANARY.length - 5 }, (_, i) => CANARY.slice(i, i + 6));

let upstream: HostileUpstream;
let gw: TestGateway;
const logs: string[] = [];
const logger: Logger = {
  debug: (o, m) => logs.push(JSON.stringify([o, m])),
  info: (o, m) => logs.push(JSON.stringify([o, m])),
  warn: (o, m) => logs.push(JSON.stringify([o, m])),
  error: (o, m) => logs.push(JSON.stringify([o, m])),
};

before(async () => {
  upstream = await new HostileUpstream().listen();
  gw = await startGateway(
    {
      providers: { hostile: { type: "openai", base_url: upstream.url, api_key: CANARY } },
      models: { retried: { targets: ["hostile/echo-fields-500"], retry: { attempts: 2, base_delay: 1, max_delay: 1 } } },
    },
    { logger },
    logger,
  );
});
after(async () => {
  await gw.close();
  await upstream.close();
});

function assertClean(where: string, text: string): void {
  for (const piece of PIECES) assert.ok(!text.includes(piece), `${where} holds "${piece}" of the key:\n${text}`);
}

test("the key echoed into message, type, code and param of a client error is redacted in every field", async () => {
  const res = await post(`${gw.url}/v1/chat/completions`, chat("hostile/echo-fields"));
  assert.equal(res.status, 400);
  assertClean("the error body", res.text);
  const error = openaiError(res.text);
  assert.match(String(error.param), /\[redacted\]/);
  assert.match(String(error.code), /\[redacted\]/);
  assert.match(error.type, /\[redacted\]/);
  assert.match(error.message, /\[redacted\]/);
});

test("the same from a retried 500: the final error and every attempt are clean", async () => {
  const res = await post(`${gw.url}/v1/chat/completions`, chat("retried"));
  assert.equal(res.status, 500);
  assertClean("the error body", res.text);
  assert.equal((openaiError(res.text).attempts as unknown[]).length, 2);
});

test("a key cut across the 200-character excerpt of a non-JSON body leaks no half of itself", async () => {
  const res = await post(`${gw.url}/v1/chat/completions`, chat("hostile/html-split"));
  assert.equal(res.status, 502);
  assertClean("the error body", res.text);
  assert.match(openaiError(res.text).message, /upstream answered 502: <html>x+\[redacted\]/);
  const health = await fetch(`${gw.url}/health/upstream`).then((r) => r.text());
  assertClean("/health/upstream", health);
  assertClean("the logs", logs.join("\n"));
  assert.ok(logs.length > 0, "nothing was logged, so the log check proved nothing");
});

test("upstream error messages are cut after redaction, to a bounded length", async () => {
  const res = await post(`${gw.url}/v1/chat/completions`, chat("hostile/html-split"));
  assert.ok(openaiError(res.text).message.length <= 501 + "upstream answered 502: ".length);
});

test("a 200 whose body is an error is an error, classified and redacted, not an answer", async () => {
  const g = await startGateway({
    providers: { hostile: { type: "openai", base_url: upstream.url, api_key: CANARY } },
    models: { m: { targets: ["hostile/error-200"], retry: { attempts: 2, base_delay: 1, max_delay: 1 } } },
  });
  try {
    const res = await post(`${g.url}/v1/chat/completions`, chat("m"));
    assert.equal(res.status, 500);
    const error = openaiError(res.text);
    assert.equal(error.code, "SY_ERR_UPSTREAM_STATUS");
    assert.equal((error.attempts as unknown[]).length, 2, "a server error in a 200 is retried like a 500");
    assertClean("the error body", res.text);
  } finally {
    await g.close();
  }
});
