import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { post } from "../helpers/gateway.ts";
import { calls, type CachedSetup, startCached } from "./setup.ts";

const weather = {
  type: "function" as const,
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

interface Collected {
  chunks: number;
  text: string;
  tools: Array<{ id: string; name: string; arguments: string }>;
  usage: unknown;
  ids: Set<string>;
}

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<Collected> {
  const out: Collected = { chunks: 0, text: "", tools: [], usage: undefined, ids: new Set() };
  for await (const c of stream) {
    out.chunks++;
    out.ids.add(c.id);
    if (c.usage) out.usage = c.usage;
    const d = c.choices[0]?.delta;
    if (d?.content) out.text += d.content;
    for (const t of d?.tool_calls ?? []) {
      const slot = (out.tools[t.index] ??= { id: "", name: "", arguments: "" });
      if (t.id) slot.id = t.id;
      if (t.function?.name) slot.name = t.function.name;
      slot.arguments += t.function?.arguments ?? "";
    }
  }
  return out;
}

describe("a cached stream replays through the official SDKs as the original", () => {
  let s: CachedSetup;
  let openai: OpenAI;
  let anthropic: Anthropic;
  before(async () => {
    s = await startCached({ enabled: true });
    openai = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: s.gw.url, apiKey: "unused", maxRetries: 0 });
  });
  after(() => s.close());
  beforeEach(() => s.mock.reset());

  test("OpenAI: same content, tool calls, usage and number of events; fresh ids", async () => {
    const body = { model: "m", messages: [{ role: "user" as const, content: "weather in Paris?" }], tools: [weather], stream: true as const, stream_options: { include_usage: true } };
    const original = await collect(await openai.chat.completions.create(body));
    const replayed = await collect(await openai.chat.completions.create(body));
    assert.equal(calls(s.mock), 1);
    assert.ok(original.tools.length > 0, "the answer calls a tool");
    assert.deepEqual(replayed.tools, original.tools);
    assert.equal(replayed.text, original.text);
    assert.deepEqual(replayed.usage, original.usage);
    assert.ok(original.usage !== undefined);
    assert.equal(replayed.chunks, original.chunks);
    assert.equal(replayed.ids.size, 1);
    assert.notDeepEqual([...replayed.ids], [...original.ids]);

    // A client that did not ask for usage gets every event but the usage chunk.
    const { stream_options: _, ...noUsage } = body;
    const plain = await collect(await openai.chat.completions.create(noUsage));
    assert.equal(plain.usage, undefined);
    assert.equal(plain.chunks, original.chunks - 1);
    assert.deepEqual(plain.tools, original.tools);
    assert.equal(calls(s.mock), 1);

  });

  test("OpenAI: a whole answer converted from the stream has the same content and usage", async () => {
    const body = { model: "m", messages: [{ role: "user" as const, content: "weather in Rome?" }], tools: [weather] };
    const streamed = await collect(await openai.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }));
    const { data, response } = await openai.chat.completions.create(body).withResponse();
    assert.equal(response.headers.get("x-switchyard-cache"), "hit");
    assert.equal(calls(s.mock), 1);
    const calls_ = data.choices[0].message.tool_calls!.map((t) => ({ id: t.id, name: (t as { function: { name: string } }).function.name, arguments: (t as { function: { arguments: string } }).function.arguments }));
    assert.deepEqual(calls_, streamed.tools);
    assert.equal(data.usage!.prompt_tokens, (streamed.usage as { prompt_tokens: number }).prompt_tokens);
    assert.equal(data.usage!.completion_tokens, (streamed.usage as { completion_tokens: number }).completion_tokens);
  });

  test("Anthropic: the replayed stream gives the same message, tool use and usage, in as many events", async () => {
    const params = {
      model: "m",
      max_tokens: 100,
      messages: [{ role: "user" as const, content: "weather in Oslo?" }],
      tools: [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }],
    };
    const run = async () => {
      let events = 0;
      const stream = anthropic.messages.stream(params);
      for await (const _ of stream) events++;
      return { events, message: await stream.finalMessage() };
    };
    const original = await run();
    const replayed = await run();
    assert.equal(calls(s.mock), 1, "one upstream call for both");
    assert.equal(replayed.events, original.events);
    assert.deepEqual(replayed.message.content, original.message.content);
    assert.deepEqual(replayed.message.usage, original.message.usage);
    assert.equal(replayed.message.stop_reason, original.message.stop_reason);
    assert.notEqual(replayed.message.id, original.message.id);
    assert.match(replayed.message.id, /^msg_/);
    assert.ok(original.message.content.some((b) => b.type === "tool_use"));

    // The same request, whole: converted from the stored stream.
    const whole = await anthropic.messages.create(params);
    assert.deepEqual(whole.content, original.message.content);
    assert.equal(whole.usage.output_tokens, original.message.usage.output_tokens);
    assert.equal(calls(s.mock), 1);
  });

  test("Responses: a replay has the same events with a fresh response id", async () => {
    const body = { model: "m", input: "hello there", stream: true };
    const first = await post(`${s.gw.url}/v1/responses`, body);
    const second = await post(`${s.gw.url}/v1/responses`, body);
    assert.equal(second.headers.get("x-switchyard-cache"), "hit");
    const events = (t: string) => t.split("\n\n").filter((e) => e.trim() !== "");
    assert.equal(events(second.text).length, events(first.text).length);
    const id = (t: string) => /"id":"(resp_[^"]+)"/.exec(t)![1];
    assert.notEqual(id(second.text), id(first.text));
    assert.equal(second.text.replaceAll(id(second.text), "X"), first.text.replaceAll(id(first.text), "X"));
    // Responses answers are not converted between forms: the whole one is its own entry.
    assert.equal((await post(`${s.gw.url}/v1/responses`, { ...body, stream: false })).headers.get("x-switchyard-cache"), "miss");
  });
});
