/**
 * The mock's tool calls and reasoning, translated: an Anthropic client
 * served by an OpenAI-compatible provider gets tool_use blocks with the
 * upstream's ids and complete arguments, whole and streamed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

const weather: Anthropic.Tool = {
  name: "weather",
  input_schema: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] },
};

let mock: MockUpstream;
let gw: TestGateway;
let client: Anthropic;
before(async () => {
  mock = await startMockUpstream();
  // The gateway passes no client header upstream: the mock's knobs go in each provider's headers.
  gw = await startGateway({
    providers: {
      parallel: { type: "groq", base_url: mock.url, api_key: "k", headers: { "x-mock-tool-calls": "2" } },
      thinking: { type: "deepseek", base_url: mock.url, api_key: "k", headers: { "x-mock-reasoning": "1" } },
    },
    models: { parallel: { targets: ["parallel/m"] }, thinking: { targets: ["thinking/m"] } },
  });
  client = new Anthropic({ baseURL: gw.url, apiKey: "client-key", maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await mock.close();
});

test("whole: the upstream's parallel calls become tool_use blocks with its ids", async () => {
  const res = await client.messages.create({ model: "parallel", max_tokens: 100, tools: [weather], messages: [{ role: "user", content: "weather?" }] });
  assert.equal(res.stop_reason, "tool_use");
  const uses = res.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
  assert.equal(uses.length, 2);
  for (const u of uses) {
    assert.match(u.id, /^call_/);
    assert.deepEqual(u.input, { city: "x", days: 1 });
  }
});

test("streamed: arguments arrive complete, reasoning as thinking", async () => {
  const stream = client.messages.stream({ model: "thinking", max_tokens: 100, tools: [weather], messages: [{ role: "user", content: "weather?" }] });
  const final = await stream.finalMessage();
  const use = final.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
  assert.deepEqual(use?.input, { city: "x", days: 1 });
  const thinking = final.content.find((b) => b.type === "thinking");
  assert.equal((thinking as Anthropic.ThinkingBlock | undefined)?.thinking, "Let me think about this step by step.");
});
