/**
 * The Anthropic Messages front (POST /v1/messages) through the official
 * Anthropic SDK: passed through to an anthropic upstream, translated to any
 * other, with errors in Anthropic's shape.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

const KEY = "sk-ant-upstream-key-0123456789";
const WEATHER: Anthropic.Tool = {
  name: "get_weather",
  description: "Weather of a city",
  input_schema: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] },
};

let mock: MockUpstream;
let gw: TestGateway;
let client: Anthropic;

before(async () => {
  mock = await startMockUpstream({ apiKey: KEY, tokens: 5 });
  const gemini = mock.url.replace(/\/v1$/, "/v1beta");
  gw = await startGateway(
    {
      providers: {
        claude: { type: "anthropic", base_url: mock.url, api_key: KEY },
        gem: { type: "gemini", base_url: gemini, api_key: KEY },
        gem2: { type: "gemini", base_url: gemini, api_key: KEY, headers: { "x-mock-tool-calls": "2" } },
        demo: { type: "demo" },
      },
      models: {
        "claude-haiku-*": { targets: ["demo/demo-1"] },
        "claude-sonnet-*": { targets: ["claude/claude-sonnet-4-5"] },
        translated: { targets: ["gem/gemini-2.5-flash"] },
        parallel: { targets: ["gem2/gemini-2.5-flash"] },
      },
    },
    { demoTokenGapMs: 0 },
  );
  client = new Anthropic({ baseURL: gw.url, apiKey: "client-key-not-forwarded", maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await mock.close();
});
beforeEach(() => mock.reset());

describe("to an anthropic upstream: passthrough", () => {
  test("the body passes untouched, with the client's anthropic-version and anthropic-beta, never its key", async () => {
    const msg = await client.messages.create(
      { model: "claude-sonnet-4-5-20250929", max_tokens: 64, system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }], messages: [{ role: "user", content: "hi" }] },
      { headers: { "anthropic-beta": "interleaved-thinking-2025-05-14" } },
    );
    assert.equal(msg.type, "message");
    assert.ok(msg.content.length > 0);
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.path, "/v1/messages");
    assert.equal(seen.headers["anthropic-beta"], "interleaved-thinking-2025-05-14");
    assert.equal(seen.headers["x-api-key"], KEY);
    assert.deepEqual((seen.body as { system: unknown }).system, [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }]);
    assert.equal((seen.body as { model: string }).model, "claude-sonnet-4-5");
  });

  test("streamed with thinking: the signature reaches the client intact", async () => {
    const stream = client.messages.stream({
      model: "claude-sonnet-4-5",
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "think" }],
    });
    const final = await stream.finalMessage();
    const thinking = final.content.find((b) => b.type === "thinking");
    assert.ok(thinking && thinking.type === "thinking" && thinking.signature.length > 0);
  });
});

describe("to a translated upstream", () => {
  test("text, with a system prompt as blocks: the SDK parses a Messages response", async () => {
    const msg = await client.messages.create({
      model: "translated",
      max_tokens: 64,
      system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: "hi" }],
    });
    assert.match(msg.id, /^msg_/);
    assert.equal(msg.role, "assistant");
    assert.equal(msg.content[0].type, "text");
    assert.equal(msg.stop_reason, "end_turn");
    assert.ok(msg.usage.input_tokens > 0);
    // Gemini has no cache_control: it is dropped, not forwarded to be refused.
    assert.ok(!JSON.stringify(mock.requests.at(-1)!.body ?? {}).includes("cache_control"));
  });

  test("parallel tool use, whole and streamed: tool_use blocks with the upstream's ids and complete inputs", async () => {
    const whole = await client.messages.create({ model: "parallel", max_tokens: 256, tools: [WEATHER], messages: [{ role: "user", content: "weather?" }] });
    const uses = whole.content.filter((b) => b.type === "tool_use");
    assert.equal(uses.length, 2);
    assert.equal(whole.stop_reason, "tool_use");
    for (const u of uses) assert.ok(u.type === "tool_use" && typeof (u.input as { city?: unknown }).city === "string");

    const stream = client.messages.stream({ model: "parallel", max_tokens: 256, tools: [WEATHER], messages: [{ role: "user", content: "weather?" }] });
    const events: string[] = [];
    stream.on("streamEvent", (e) => events.push(e.type));
    const final = await stream.finalMessage();
    const streamedUses = final.content.filter((b) => b.type === "tool_use");
    assert.equal(streamedUses.length, 2);
    const ids = streamedUses.map((u) => (u as Anthropic.ToolUseBlock).id);
    assert.equal(new Set(ids).size, 2, "each call has its own id");
    for (const u of streamedUses) assert.deepEqual((u as Anthropic.ToolUseBlock).input, (uses[0] as Anthropic.ToolUseBlock).input);
    assert.equal(events[0], "message_start");
    assert.equal(events.at(-1), "message_stop");
    // One content block open at a time.
    let open = 0;
    for (const e of events) {
      if (e === "content_block_start") assert.equal(open++, 0);
      if (e === "content_block_stop") open--;
    }
  });

  test("a tool_result round trip reaches the upstream as its own function result", async () => {
    const first = await client.messages.create({ model: "translated", max_tokens: 256, tools: [WEATHER], messages: [{ role: "user", content: "weather?" }] });
    const use = first.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
    const second = await client.messages.create({
      model: "translated",
      max_tokens: 256,
      tools: [WEATHER],
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }, { type: "text", text: "and?" }] },
      ],
    });
    assert.equal(second.type, "message");
    const sent = JSON.stringify(mock.requests.at(-1)!.body);
    assert.match(sent, /functionResponse/);
    assert.match(sent, /sunny/);
    assert.match(sent, /and\?/);
  });
});

describe("model names and models", () => {
  test("a claude-haiku-* name with a date suffix goes to the haiku pattern's target", async () => {
    const res = await client.messages.create({ model: "claude-haiku-4-5-20251001", max_tokens: 32, messages: [{ role: "user", content: "hi" }] }).asResponse();
    assert.equal(res.headers.get("x-switchyard-target"), "demo/demo-1");
  });

  test("GET /v1/models answers in Anthropic's format to Anthropic's SDK", async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes("translated"));
    assert.ok(!ids.some((id) => id.includes("*")));
    assert.equal(page.data[0].type, "model");
  });

  test("count_tokens answers with a tokenizer's count", async () => {
    const r = await client.messages.countTokens({ model: "translated", messages: [{ role: "user", content: "What is the weather in Paris today?" }], tools: [WEATHER] });
    assert.ok(r.input_tokens > 15 && r.input_tokens < 200, `got ${r.input_tokens}`);
  });
});

describe("errors in Anthropic's shape", () => {
  test("malformed JSON, an unknown model, a bad field", async () => {
    const bad = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "invalid_request_error");
    await assert.rejects(
      client.messages.create({ model: "no-such-model", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      (e: unknown) => e instanceof Anthropic.NotFoundError && (e.error as { error: { type: string } }).error.type === "not_found_error",
    );
    await assert.rejects(
      client.messages.create({ model: "translated", max_tokens: 8, messages: "nope" as never }),
      (e: unknown) => e instanceof Anthropic.BadRequestError,
    );
  });

  test("an upstream failure before the first byte is an overloaded_error the SDK raises", async () => {
    mock.setFault("status=503", { times: 10 });
    await assert.rejects(
      client.messages.create({ model: "translated", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      (e: unknown) => e instanceof Anthropic.APIError && e.status === 503 && (e.error as { error: { type: string } }).error.type === "overloaded_error",
    );
    mock.reset();
  });

  test("a failure mid-stream ends with one event: error", async () => {
    const { HostileUpstream } = await import("../helpers/hostile-upstream.ts");
    const hostile = await new HostileUpstream().listen();
    const g = await startGateway({ providers: { h: { type: "openai", base_url: hostile.url, api_key: "tok-ANT-secret-0123456789" } }, models: {} });
    try {
      const raw = await fetch(`${g.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "h/stream-error-key", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] }),
      }).then((r) => r.text());
      const events = raw.split("\n").filter((l) => l.startsWith("event: ")).map((l) => l.slice(7));
      assert.equal(events[0], "message_start");
      assert.equal(events.at(-1), "error");
      assert.equal(events.filter((e) => e === "error").length, 1);
      assert.ok(!raw.includes("ANT-secret"));
    } finally {
      await g.close();
      await hostile.close();
    }
  });
});

describe("Claude Code's request shape", () => {
  test("to a translated upstream: system messages keep their place, effort maps, unknown fields are dropped, tools are cleaned", async () => {
    const { claudeCodeRequest, CLAUDE_CODE_BETAS } = await import("../fixtures/claude-code-request.ts");
    const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "anthropic-beta": CLAUDE_CODE_BETAS, "x-api-key": "dummy" },
      body: JSON.stringify(claudeCodeRequest("claude-sonnet-4-5-20250929".replace("sonnet", "opus").replace("claude-opus", "translated-opus"))),
    });
    // "translated-opus-…" matches no model: the request is refused in Anthropic's shape, naming the model.
    assert.equal(res.status, 404);
    const ok = await fetch(`${gw.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "anthropic-beta": CLAUDE_CODE_BETAS, "x-api-key": "dummy" },
      body: JSON.stringify(claudeCodeRequest("translated")),
    });
    assert.equal(ok.status, 200);
    const text = await ok.text();
    assert.match(text, /^event: message_start/);
    assert.match(text, /event: message_stop/);
    const sent = mock.requests.at(-1)!.body as { systemInstruction: unknown; contents: Array<{ parts: Array<Record<string, unknown>> }>; tools: Array<{ functionDeclarations: unknown[] }> };
    assert.match(JSON.stringify(sent.systemInstruction), /Working directory/);
    assert.equal(sent.tools[0].functionDeclarations.length, 40);
    assert.ok(!JSON.stringify(sent).includes("context_management"));
    assert.ok(!JSON.stringify(sent).includes("additionalProperties"));
    assert.ok(sent.contents.some((c) => c.parts.some((p) => p.functionResponse !== undefined)));
  });

  test("to an anthropic upstream: passed through byte for byte, with the beta flags", async () => {
    const { claudeCodeRequest, CLAUDE_CODE_BETAS } = await import("../fixtures/claude-code-request.ts");
    const body = claudeCodeRequest("claude-sonnet-4-5");
    delete body.thinking; // the mock checks thinking signatures it did not make
    (body.messages as unknown[]).splice(2, 2);
    const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "anthropic-beta": CLAUDE_CODE_BETAS, "x-api-key": "dummy" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.headers["anthropic-beta"], CLAUDE_CODE_BETAS);
    assert.deepEqual((seen.body as { context_management: unknown }).context_management, body.context_management);
    assert.deepEqual((seen.body as { output_config: unknown }).output_config, body.output_config);
  });
});

describe("to an OpenAI-compatible upstream", () => {
  test("parallel tool use streamed with the upstream's call ids, a tool_result round trip, thinking from reasoning_content", async () => {
    const oai = await startMockUpstream({ tokens: 4 });
    const g = await startGateway({
      providers: {
        local: { type: "openai", base_url: oai.url, api_key: "k", headers: { "x-mock-tool-calls": "2", "x-mock-reasoning": "1" } },
      },
      models: { "claude-*": { targets: ["local/qwen"] } },
    });
    const c = new Anthropic({ baseURL: g.url, apiKey: "unused-key", maxRetries: 0 });
    try {
      const stream = c.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 256, tools: [WEATHER], messages: [{ role: "user", content: "weather?" }] });
      const first = await stream.finalMessage();
      const thinking = first.content.find((b) => b.type === "thinking");
      assert.ok(thinking && thinking.type === "thinking" && thinking.thinking.length > 0, "reasoning_content arrives as a thinking block");
      const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
      assert.equal(uses.length, 2);
      for (const u of uses) {
        assert.match(u.id, /^call_/, "the upstream's id, kept");
        assert.equal(typeof (u.input as { city?: unknown }).city, "string");
      }
      assert.equal(first.stop_reason, "tool_use");
      const second = await c.messages.create({
        model: "claude-sonnet-4-5",
        max_tokens: 256,
        tools: [WEATHER],
        messages: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: first.content },
          { role: "user", content: uses.map((u) => ({ type: "tool_result" as const, tool_use_id: u.id, content: `sunny for ${u.id}` })) },
        ],
      });
      assert.match((second.content.find((b) => b.type === "text") as Anthropic.TextBlock).text, /The tool returned: sunny/);
      const sent = oai.requests.at(-1)!.body as { messages: Array<{ role: string; tool_call_id?: string; tool_calls?: unknown[] }> };
      assert.deepEqual(sent.messages.map((m) => m.role), ["user", "assistant", "tool", "tool"]);
      assert.deepEqual(sent.messages.slice(2).map((m) => m.tool_call_id), uses.map((u) => u.id));
    } finally {
      await g.close();
      await oai.close();
    }
  });
});
