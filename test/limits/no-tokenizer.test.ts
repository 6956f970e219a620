/**
 * The tokenizer's tables load only when a tpm limit needs an exact count:
 * rpm, burst and concurrency never touch it, nor does a tpm window with room
 * to spare for the prompt however it counts (its answer's usage settles the
 * rough estimate). A window near its limit does. Its own file, so that this
 * process has loaded nothing else that counts tokens.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenizerLoaded } from "../../src/limits/tokens.ts";
import { chat, post, startGateway } from "../helpers/gateway.ts";
import { GateUpstream } from "./gate-upstream.ts";

test("rpm, burst, concurrency and a tpm window with room to spare never load the tokenizer; a tpm window near its limit does", async (t) => {
  const up = await new GateUpstream().listen();
  t.after(() => up.close());
  const gw = await startGateway({
    server: { max_in_flight: 10 },
    providers: {
      p: { type: "openai", base_url: up.url, limits: { rpm: 100, burst: 10, concurrency: 4 } },
      q: { type: "openai", base_url: up.url, limits: { tpm: 100_000 } },
      r: { type: "openai", base_url: up.url, limits: { tpm: 10 } },
    },
    models: { m: { targets: [{ provider: "p", model: "x", limits: { rpm: 50 } }] }, roomy: { targets: ["q/x"] }, tight: { targets: ["r/x"] } },
  });
  t.after(() => gw.close());
  const url = `${gw.url}/v1/chat/completions`;
  assert.equal((await post(url, chat("m"))).status, 200);
  assert.equal((await post(url, chat("m", { stream: true }))).status, 200);
  assert.equal(tokenizerLoaded(), false, "no tpm limit applied: no tokenizer");
  assert.equal((await post(url, chat("roomy"))).status, 200);
  assert.equal(tokenizerLoaded(), false, "a tpm window with room for any count of the prompt: estimated roughly, settled by the usage");
  assert.equal(gw.engine.limits!.report().q.tpm?.effective, 100_000);
  // "hi" is estimated at 7 tokens and could be at most 12: a window of 10 cannot tell without counting.
  assert.equal((await post(url, chat("tight"))).status, 200);
  assert.equal(tokenizerLoaded(), true, "a tpm window near its limit counts the prompt's tokens");
});
