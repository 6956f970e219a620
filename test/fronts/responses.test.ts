/** The Responses API front (POST /v1/responses) through the official SDK, translated to a chat upstream. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { decodeRequest } from "../../src/codecs/openai-responses/request.ts";
import { GatewayError } from "../../src/protocol/errors.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
before(async () => {
  gw = await startGateway({ providers: { demo: { type: "demo" } }, models: { demo: { targets: ["demo/demo-1"] } } }, { demoTokenGapMs: 0 });
});
after(() => gw.close());

describe("POST /v1/responses to a chat upstream", () => {
  test("responses.create: the SDK's parsed response holds the text and usage", async () => {
    const r = await gw.client.responses.create({ model: "demo", input: "hi", instructions: "be brief", store: false });
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.match(r.id, /^resp_/);
    assert.ok(r.output_text.length > 0);
    assert.equal(r.output[0].type, "message");
  });

  test("responses.stream: events in order, and finalResponse equals the streamed text", async () => {
    const stream = gw.client.responses.stream({ model: "demo", input: [{ role: "user", content: "hi" }] });
    const types: string[] = [];
    let deltas = "";
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") deltas += ev.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(types[0], "response.created");
    assert.equal(types[1], "response.in_progress");
    assert.equal(types.at(-1), "response.completed");
    assert.ok(types.indexOf("response.output_item.added") < types.indexOf("response.output_text.delta"));
    assert.ok(types.includes("response.output_item.done"));
    assert.equal(final.output_text, deltas);
    assert.ok(deltas.length > 0);
    const seqs: number[] = [];
    // sequence numbers rise by one from zero (checked on a fresh stream's raw events)
    const raw = await fetch(`${gw.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "demo", input: "hi", stream: true }),
    }).then((r) => r.text());
    for (const line of raw.split("\n")) if (line.startsWith("data: ")) seqs.push((JSON.parse(line.slice(6)) as { sequence_number: number }).sequence_number);
    assert.deepEqual(seqs, seqs.map((_, i) => i));
    assert.match(raw, /^event: response\.created\n/);
  });

  test("previous_response_id and store: true are a clear 400 on a translated target", async () => {
    for (const extra of [{ previous_response_id: "resp_1" }, { store: true }]) {
      await assert.rejects(
        gw.client.responses.create({ model: "demo", input: "hi", ...extra }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && /gateway does not keep/.test(err.message),
      );
    }
  });

  test("a missing input is a 400 naming it", async () => {
    await assert.rejects(
      gw.client.responses.create({ model: "demo" } as never),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "input",
    );
  });
});

describe("failures on the Responses front", () => {
  test("a stream that fails after its first event ends with response.failed, redacted, and the SDK sees it", async () => {
    const { HostileUpstream } = await import("../helpers/hostile-upstream.ts");
    const upstream = await new HostileUpstream().listen();
    const hostile = await startGateway({ providers: { h: { type: "openai", base_url: upstream.url, api_key: "tok-RESP-secret-0123456789" } }, models: {} });
    try {
      const raw = await fetch(`${hostile.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "h/stream-error-key", input: "hi", stream: true }),
      }).then((r) => r.text());
      const events = raw.split("\n").filter((l) => l.startsWith("event: ")).map((l) => l.slice(7));
      assert.equal(events[0], "response.created");
      assert.equal(events.at(-1), "response.failed");
      assert.equal(events.filter((e) => e === "response.failed").length, 1);
      assert.ok(!raw.includes("RESP-secret"), raw);
      const stream = hostile.client.responses.stream({ model: "h/stream-error-key", input: "hi" });
      for await (const _ of stream);
      const final = await stream.finalResponse().catch((e: unknown) => e);
      assert.ok(final instanceof Error || (final as { status?: string }).status === "failed");
      const plain = await hostile.client.responses.create({ model: "h/echo-fields", input: "hi" }).catch((e: unknown) => e);
      assert.ok(plain instanceof OpenAI.APIError);
      assert.ok(!JSON.stringify((plain as InstanceType<typeof OpenAI.APIError>).error).includes("RESP-secret"));
    } finally {
      await hostile.close();
      await upstream.close();
    }
  });
});

describe("Responses request → internal request", () => {
  test("Codex's shapes: developer message, function calls and their outputs, reasoning, tools", () => {
    const req = decodeRequest({
      model: "m",
      instructions: "You are Codex.",
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "<env>linux</env>" }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "list files" }] },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "use ls" }], encrypted_content: null },
        { type: "function_call", call_id: "call_1", name: "shell", arguments: '{"command":["ls"]}' },
        { type: "function_call", call_id: "call_2", name: "shell", arguments: '{"command":["pwd"]}' },
        { type: "function_call_output", call_id: "call_1", output: "a.txt" },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "/w" }] },
      ],
      tools: [
        { type: "function", name: "shell", description: "run", parameters: { type: "object" }, strict: false },
        { type: "web_search" },
      ],
      tool_choice: "auto",
      parallel_tool_calls: true,
      reasoning: { effort: "medium", summary: "auto" },
      store: false,
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "k",
      stream: true,
    });
    assert.deepEqual(
      req.messages.map((m) => m.role),
      ["system", "developer", "user", "assistant", "tool", "tool"],
    );
    const assistant = req.messages[3];
    assert.deepEqual(assistant.reasoning, [{ text: "use ls" }]);
    assert.deepEqual(assistant.tool_calls?.map((t) => t.id), ["call_1", "call_2"]);
    assert.equal(req.messages[5].content, "/w");
    assert.deepEqual(req.tools?.map((t) => t.function.name), ["shell"]);
    assert.equal(req.reasoning_effort, "medium");
    assert.equal(req.stream, true);
    assert.equal("prompt_cache_key" in req, false);
  });

  test("item_reference is refused: it needs stored state", () => {
    assert.throws(() => decodeRequest({ model: "m", input: [{ type: "item_reference", id: "x" }] }), GatewayError);
  });
});

describe("Responses front to an Anthropic upstream", () => {
  test("a function-call round trip, whole and streamed: call ids carried, the output reaches the upstream as a tool_result", async () => {
    const { startMockUpstream } = await import("../../src/mock/index.ts");
    const mock = await startMockUpstream({ apiKey: "sk-ant-mock-0123456789", tokens: 4 });
    const g = await startGateway({ providers: { claude: { type: "anthropic", base_url: mock.url, api_key: "sk-ant-mock-0123456789" } }, models: { coder: { targets: ["claude/claude-sonnet-4-5"] } } });
    try {
      const tools = [{ type: "function" as const, name: "exec_command", description: "run", strict: false, parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] } }];
      const first = await g.client.responses.create({ model: "coder", input: "list files", tools, store: false });
      const call = first.output.find((o) => o.type === "function_call");
      assert.ok(call && call.type === "function_call");
      assert.match(call.call_id, /^toolu_/);
      assert.deepEqual(JSON.parse(call.arguments), { cmd: JSON.parse(call.arguments).cmd });

      const stream = g.client.responses.stream({
        model: "coder",
        store: false,
        tools,
        input: [
          { role: "user", content: "list files" },
          { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: "function_call_output", call_id: call.call_id, output: "a.txt b.txt" },
        ],
      });
      const final = await stream.finalResponse();
      assert.equal(final.status, "completed");
      assert.ok(final.output_text.length > 0);
      assert.ok((final.usage?.input_tokens ?? 0) > 0);
      const sent = JSON.stringify(mock.requests.at(-1)!.body);
      assert.match(sent, /"tool_result"/);
      assert.ok(sent.includes(call.call_id));
      assert.match(sent, /a\.txt b\.txt/);
    } finally {
      await g.close();
      await mock.close();
    }
  });
});

describe("Responses front to an OpenAI-compatible chat upstream", () => {
  test("a function-call round trip (whole), a streamed answer after the output, and Codex's request shape replayed", async () => {
    const { startMockUpstream } = await import("../../src/mock/index.ts");
    const { codexRequest } = await import("../fixtures/codex-request.ts");
    const mock = await startMockUpstream({ tokens: 4 });
    const g = await startGateway({
      providers: { local: { type: "openai", base_url: mock.url, api_key: "k", headers: { "x-mock-tool": "exec_command" } } },
      models: { "gpt-5*": { targets: ["local/qwen"] } },
    });
    try {
      const tools = [{ type: "function" as const, name: "exec_command", strict: false, parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] } }];
      const first = await g.client.responses.create({ model: "gpt-5-codex", input: "list files", tools, store: false });
      const call = first.output.find((o) => o.type === "function_call");
      assert.ok(call && call.type === "function_call");
      assert.equal(call.name, "exec_command");
      assert.match(call.call_id, /^call_/);
      const stream = g.client.responses.stream({
        model: "gpt-5-codex",
        tools,
        store: false,
        input: [{ role: "user", content: "list files" }, call, { type: "function_call_output", call_id: call.call_id, output: "a.txt" }],
      });
      const final = await stream.finalResponse();
      assert.match(final.output_text, /The tool returned: a\.txt/);
      const sent = mock.requests.at(-1)!.body as { messages: Array<{ role: string; tool_call_id?: string }> };
      assert.deepEqual(sent.messages.map((m) => m.role), ["user", "assistant", "tool"]);
      assert.equal(sent.messages[2].tool_call_id, call.call_id);

      const replay = await fetch(`${g.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(codexRequest("gpt-5-codex")) });
      assert.equal(replay.status, 200);
      const text = await replay.text();
      assert.match(text, /^event: response\.created/);
      assert.match(text, /event: response\.completed/);
      const upstream = mock.requests.at(-1)!.body as { messages: Array<{ role: string }>; tools: unknown[]; prompt_cache_key?: unknown; include?: unknown };
      assert.deepEqual(upstream.messages.map((m) => m.role), ["system", "developer", "developer", "user"]);
      assert.equal(upstream.tools.length, 24, "the hosted web_search tool is dropped");
      assert.equal(upstream.prompt_cache_key, undefined);
      assert.equal(upstream.include, undefined);
    } finally {
      await g.close();
      await mock.close();
    }
  });

  test("errors in OpenAI's shape: malformed JSON, an unknown model, a failure before the first byte", async () => {
    const bad = await fetch(`${gw.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "SY_ERR_INVALID_JSON");
    await assert.rejects(gw.client.responses.create({ model: "nope", input: "hi" }), (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found");
    const { startMockUpstream } = await import("../../src/mock/index.ts");
    const mock = await startMockUpstream({ fault: "status=503" });
    const g = await startGateway({ providers: { m: { type: "openai", base_url: mock.url, api_key: "k" } }, models: { x: { targets: ["m/y"], retry: { attempts: 1 } } } });
    try {
      await assert.rejects(g.client.responses.create({ model: "x", input: "hi", stream: true }), (e: unknown) => e instanceof OpenAI.APIError && e.status === 503);
    } finally {
      await g.close();
      await mock.close();
    }
  });
});

describe("Responses front to an upstream that takes it (responses: true)", () => {
  test("passes through untouched, whole and streamed, with usage read from the stream", async () => {
    const { startMockUpstream } = await import("../../src/mock/index.ts");
    const mock = await startMockUpstream({ tokens: 3 });
    const g = await startGateway({ providers: { oai: { type: "openai", base_url: mock.url, api_key: "k", responses: true } }, models: {} });
    try {
      const body = { model: "oai/gpt-5", input: "hi", store: true, previous_response_id: "resp_earlier", metadata: { a: "b" } };
      const r = await g.client.responses.create(body);
      assert.equal(r.status, "completed");
      const seen = mock.requests.at(-1)!;
      assert.equal(seen.path, "/v1/responses");
      assert.deepEqual(seen.body, { ...body, model: "gpt-5" }, "store, previous_response_id and metadata reach an upstream that keeps state");
      const stream = g.client.responses.stream({ model: "oai/gpt-5", input: "hi" });
      const final = await stream.finalResponse();
      assert.ok(final.output_text.length > 0);
      assert.ok((final.usage?.output_tokens ?? 0) > 0);
    } finally {
      await g.close();
      await mock.close();
    }
  });
});
