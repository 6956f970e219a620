/** The mock's Anthropic side: Messages answers whole and streamed, tool use, signed thinking, models, keys and faults in Anthropic's shapes. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signThinking } from "../../src/mock/anthropic-wire.ts";
import { startMockUpstream, type MockUpstream } from "../../src/mock/server.ts";

let mock: MockUpstream;
let keyed: MockUpstream;
before(async () => {
  mock = await startMockUpstream({ models: ["claude-a", "claude-b"] });
  keyed = await startMockUpstream({ apiKey: "sk-ant-mock" });
});
after(async () => {
  await mock.close();
  await keyed.close();
});

const base = { model: "claude-test", max_tokens: 1024, messages: [{ role: "user", content: "Hello there" }] };
const WEATHER = {
  name: "get_weather",
  description: "Weather of a place",
  input_schema: {
    type: "object",
    properties: {
      city: { type: "string" },
      unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      days: { type: "integer" },
      where: { type: "object", properties: { lat: { type: "number" }, lon: { type: "number" } }, required: ["lat"] },
      note: { type: "string" },
    },
    required: ["city", "unit", "days", "where"],
  },
};

async function messages(body: object, headers: Record<string, string> = {}, server = mock) {
  const res = await fetch(`${server.url}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** An Anthropic SSE body as its events, asserting each event's name is its data's type. */
function events(text: string): Array<Record<string, any>> {
  assert.ok(text.endsWith("\n\n"));
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((block) => {
      const [name, data] = block.split("\n");
      assert.match(name, /^event: /);
      assert.match(data, /^data: /);
      const parsed = JSON.parse(data.slice(6));
      assert.equal(parsed.type, name.slice(7));
      return parsed;
    });
}

describe("POST /v1/messages", () => {
  test("a whole answer: msg_ id, text, end_turn and usage", async () => {
    const res = await messages(base);
    assert.equal(res.status, 200);
    const m = JSON.parse(res.text);
    assert.match(m.id, /^msg_/);
    assert.equal(m.type, "message");
    assert.equal(m.role, "assistant");
    assert.equal(m.model, "claude-test");
    assert.deepEqual(m.content, [{ type: "text", text: "Hello from the Switchyard mock. The quick brown fox jumps over the" }]);
    assert.equal(m.stop_reason, "end_turn");
    assert.equal(m.stop_sequence, null);
    assert.deepEqual(m.usage, { input_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 12 });
  });

  test("max_tokens ends the answer with stop_reason max_tokens", async () => {
    const m = JSON.parse((await messages({ ...base, max_tokens: 3 })).text);
    assert.equal(m.content[0].text, "Hello from the");
    assert.equal(m.stop_reason, "max_tokens");
  });

  test("a stream: message_start, one block with ping, deltas, message_delta with the usage, message_stop", async () => {
    const res = await messages({ ...base, max_tokens: 2, stream: true });
    assert.equal(res.status, 200);
    assert.match(res.type ?? "", /^text\/event-stream/);
    const evs = events(res.text);
    assert.deepEqual(
      evs.map((e) => e.type),
      ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
    );
    assert.equal(evs[0].message.usage.input_tokens, 3);
    assert.deepEqual(evs[1], { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    assert.deepEqual(evs[3].delta, { type: "text_delta", text: "Hello" });
    assert.deepEqual(evs[6], { type: "message_delta", delta: { stop_reason: "max_tokens", stop_sequence: null }, usage: { output_tokens: 2 } });
  });

  test("with tools: a tool_use answer, input made from the schema's required properties", async () => {
    const m = JSON.parse((await messages({ ...base, tools: [WEATHER] })).text);
    assert.equal(m.stop_reason, "tool_use");
    assert.equal(m.content.length, 1);
    assert.equal(m.content[0].type, "tool_use");
    assert.match(m.content[0].id, /^toolu_/);
    assert.equal(m.content[0].name, "get_weather");
    assert.deepEqual(m.content[0].input, { city: "mock-city", unit: "celsius", days: 1, where: { lat: 1 } });
  });

  test("x-mock-tool-calls asks for parallel calls, each with its own id, streamed as input_json_delta", async () => {
    const other = { name: "get_time", input_schema: { type: "object", properties: { tz: { type: "string" } }, required: ["tz"] } };
    const whole = JSON.parse((await messages({ ...base, tools: [WEATHER, other] }, { "x-mock-tool-calls": "2" })).text);
    assert.deepEqual(
      whole.content.map((c: { name: string }) => c.name),
      ["get_weather", "get_time"],
    );
    assert.notEqual(whole.content[0].id, whole.content[1].id);

    const evs = events((await messages({ ...base, tools: [WEATHER, other], stream: true }, { "x-mock-tool-calls": "2" })).text);
    const starts = evs.filter((e) => e.type === "content_block_start");
    assert.deepEqual(
      starts.map((e) => [e.index, e.content_block.type, e.content_block.name]),
      [
        [0, "tool_use", "get_weather"],
        [1, "tool_use", "get_time"],
      ],
    );
    for (const s of starts) {
      const json = evs
        .filter((e) => e.type === "content_block_delta" && e.index === s.index)
        .map((e) => {
          assert.equal(e.delta.type, "input_json_delta");
          return e.delta.partial_json;
        })
        .join("");
      assert.equal(JSON.stringify(JSON.parse(json)), json, "complete JSON");
    }
    assert.equal(evs.at(-2)?.delta.stop_reason, "tool_use");
  });

  test("no tool call after tool results, with tool_choice none, and one only when parallel use is disabled", async () => {
    const afterResult = {
      ...base,
      tools: [WEATHER],
      messages: [
        ...base.messages,
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "18°C" }] },
      ],
    };
    assert.equal(JSON.parse((await messages(afterResult)).text).stop_reason, "end_turn");
    assert.equal(JSON.parse((await messages({ ...base, tools: [WEATHER], tool_choice: { type: "none" } })).text).stop_reason, "end_turn");
    const one = JSON.parse((await messages({ ...base, tools: [WEATHER], tool_choice: { type: "auto", disable_parallel_tool_use: true } }, { "x-mock-tool-calls": "3" })).text);
    assert.equal(one.content.length, 1);
    const bad = await messages({ ...base, tools: [WEATHER] }, { "x-mock-tool-calls": "lots" });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).error.type, "invalid_request_error");
  });

  test("thinking enabled: a signed thinking block first, whole and streamed with signature_delta", async () => {
    const thinking = { type: "enabled", budget_tokens: 2048 };
    const m = JSON.parse((await messages({ ...base, max_tokens: 4096, thinking })).text);
    assert.deepEqual(
      m.content.map((c: { type: string }) => c.type),
      ["thinking", "text"],
    );
    assert.ok(m.content[0].thinking.length > 0);
    assert.ok(m.content[0].signature.length > 20);

    const evs = events((await messages({ ...base, max_tokens: 4096, thinking, stream: true })).text);
    assert.deepEqual(evs[1].content_block, { type: "thinking", thinking: "", signature: "" });
    const block0 = evs.filter((e) => e.type === "content_block_delta" && e.index === 0);
    assert.equal(block0.at(-1)?.delta.type, "signature_delta");
    assert.ok(block0.slice(0, -1).every((e) => e.delta.type === "thinking_delta"));
  });

  test("a thinking block sent back must carry its own signature, and a tool-use turn must start with it", async () => {
    const thought = "I should call the tool.";
    const turn = (content: unknown[]) => ({
      ...base,
      thinking: { type: "enabled", budget_tokens: 1024 },
      max_tokens: 2048,
      tools: [WEATHER],
      messages: [...base.messages, { role: "assistant", content }, { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "18°C" }] }],
    });
    const call = { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} };
    const good = await messages(turn([{ type: "thinking", thinking: thought, signature: signThinking(thought, "r1") }, call]));
    assert.equal(good.status, 200);
    const tampered = await messages(turn([{ type: "thinking", thinking: `${thought}!`, signature: signThinking(thought, "r1") }, call]));
    assert.equal(tampered.status, 400);
    assert.match(JSON.parse(tampered.text).error.message, /signature/);
    const missing = await messages(turn([call]));
    assert.equal(missing.status, 400);
    assert.match(JSON.parse(missing.text).error.message, /Expected `thinking` or `redacted_thinking`/);
  });

  test("what Anthropic refuses gets a 400 in Anthropic's error shape", async () => {
    for (const body of [{ model: "m", messages: base.messages }, { ...base, messages: [] }, { ...base, messages: [{ role: "tool", content: "x" }] }, { max_tokens: 5, messages: base.messages }]) {
      const res = await messages(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = JSON.parse(res.text);
      assert.equal(err.type, "error");
      assert.equal(err.error.type, "invalid_request_error");
    }
    const res = await fetch(`${mock.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, "invalid_request_error");
  });
});

describe("GET /v1/models", () => {
  test("Anthropic's list format for an Anthropic client, OpenAI's for anyone else", async () => {
    const anthropic = (await (await fetch(`${mock.url}/models`, { headers: { "anthropic-version": "2023-06-01" } })).json()) as Record<string, any>;
    assert.deepEqual(
      anthropic.data.map((m: { type: string; id: string }) => [m.type, m.id]),
      [
        ["model", "claude-a"],
        ["model", "claude-b"],
      ],
    );
    assert.equal(anthropic.has_more, false);
    assert.equal(anthropic.first_id, "claude-a");
    assert.equal(anthropic.last_id, "claude-b");
    const openai = (await (await fetch(`${mock.url}/models`)).json()) as Record<string, any>;
    assert.equal(openai.object, "list");
  });
});

describe("keys", () => {
  test("the Anthropic side takes the key in x-api-key and refuses others with authentication_error", async () => {
    assert.equal((await messages(base, { "x-api-key": "sk-ant-mock" }, keyed)).status, 200);
    const refused = await messages(base, { authorization: "Bearer sk-ant-mock" }, keyed);
    assert.equal(refused.status, 401);
    assert.deepEqual(JSON.parse(refused.text), { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } });
    const models = await fetch(`${keyed.url}/models`, { headers: { "x-api-key": "sk-ant-mock" } });
    assert.equal(models.status, 200);
    assert.ok(Array.isArray(((await models.json()) as { data: unknown[] }).data));
  });
});

describe("faults in Anthropic's shapes", () => {
  test("status errors carry Anthropic's error body, with retry-after when asked", async () => {
    const cases: Array<[number, string]> = [
      [529, "overloaded_error"],
      [429, "rate_limit_error"],
      [500, "api_error"],
      [401, "authentication_error"],
      [400, "invalid_request_error"],
      [503, "api_error"],
    ];
    for (const [status, type] of cases) {
      const res = await messages(base, { "x-mock-fault": `status=${status};retry-after=3` });
      assert.equal(res.status, status);
      assert.equal(JSON.parse(res.text).error.type, type, String(status));
    }
    const res = await fetch(`${mock.url}/messages`, { method: "POST", headers: { "content-type": "application/json", "x-mock-fault": "status=429;retry-after=3" }, body: JSON.stringify(base) });
    assert.equal(res.headers.get("retry-after"), "3");
  });

  test("error-event: an overloaded_error event in a stream (after the asked number of events), a 529 for a whole answer", async () => {
    const first = events((await messages({ ...base, stream: true }, { "x-mock-fault": "error-event" })).text);
    assert.deepEqual(first, [{ type: "error", error: { type: "overloaded_error", message: "Overloaded (injected by the Switchyard mock)." } }]);
    const later = events((await messages({ ...base, stream: true }, { "x-mock-fault": "error-event;after=3" })).text);
    assert.deepEqual(
      later.map((e) => e.type),
      ["message_start", "content_block_start", "ping", "error"],
    );
    const whole = await messages(base, { "x-mock-fault": "error-event" });
    assert.equal(whole.status, 529);
    assert.equal(JSON.parse(whole.text).error.type, "overloaded_error");
  });

  test("malformed: an Anthropic event cut mid-JSON", async () => {
    const res = await messages({ ...base, stream: true }, { "x-mock-fault": "malformed;after=1" });
    assert.match(res.text, /^event: message_start\n/);
    assert.match(res.text, /event: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\n\n$/);
  });
});
