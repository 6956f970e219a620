/**
 * The tokenizer's tables load only when a tpm limit needs a count: rpm,
 * burst and concurrency never touch it. Its own file, so that this process
 * has loaded nothing else that counts tokens.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenizerLoaded } from "../../src/limits/tokens.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";
import { GateUpstream } from "./gate-upstream.ts";

test("requests under rpm, burst and concurrency limits never load the tokenizer; a tpm limit does", async (t) => {
  const up = await new GateUpstream().listen();
  t.after(() => up.close());
  const gw = await startGateway({
    server: { max_in_flight: 10 },
    providers: {
      p: { type: "openai", base_url: up.url, limits: { rpm: 100, burst: 10, concurrency: 4 } },
      q: { type: "openai", base_url: up.url, limits: { tpm: 100_000 } },
    },
    models: { m: { targets: [{ provider: "p", model: "x", limits: { rpm: 50 } }] }, counted: { targets: ["q/x"] } },
  });
  t.after(() => gw.close());
  const url = `${gw.url}/v1/chat/completions`;
  assert.equal((await post(url, chat("m"))).status, 200);
  assert.equal((await post(url, chat("m", { stream: true }))).status, 200);
  assert.equal(tokenizerLoaded(), false, "no tpm limit applied: no tokenizer");
  assert.equal((await post(url, chat("counted"))).status, 200);
  assert.equal(tokenizerLoaded(), true, "a tpm limit counts the prompt's tokens");
});
