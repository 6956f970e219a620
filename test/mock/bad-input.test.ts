import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { startMockUpstream } from "../../src/mock/server.ts";
import type { MockUpstream } from "../../src/mock/server.ts";

/**
 * Hostile and malformed requests: each must get a 4xx in OpenAI's error shape
 * and leave the mock serving, never crash it, hang it or make it allocate
 * without bound.
 */

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };
const embed = { model: "e", input: "hello" };

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${mock.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Asserts an OpenAI-shaped error and returns it. */
async function openaiError(res: Response, status: number): Promise<ErrorBody["error"]> {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = (await res.json()) as ErrorBody;
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.type, "invalid_request_error");
  assert.equal(typeof body.error.message, "string");
  return body.error;
}

/** The mock still answers a normal request: the bad one did not take it down. */
async function stillServing(): Promise<void> {
  const res = await post("/chat/completions", chat);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

describe("embeddings", () => {
  test("dimensions of 1e308 is a 400, not a RangeError that kills the mock", async () => {
    const err = await openaiError(await post("/embeddings", { ...embed, dimensions: 1e308 }), 400);
    assert.equal(err.param, "dimensions");
    assert.equal(err.code, "integer_above_max_value");
    assert.match(err.message, /dimensions/);
    await stillServing();
  });

  test("dimensions too large to allocate is a 400 at once", async () => {
    const err = await openaiError(await post("/embeddings", { ...embed, dimensions: 500_000_000 }), 400);
    assert.equal(err.param, "dimensions");
  });

  const badDimensions: Array<[unknown, string]> = [
    [0, "integer_below_min_value"],
    [-3, "integer_below_min_value"],
    [1.5, "invalid_type"],
    ["8", "invalid_type"],
    [[8], "invalid_type"],
  ];
  for (const [dimensions, code] of badDimensions) {
    test(`dimensions ${JSON.stringify(dimensions)} is a 400 (${code})`, async () => {
      const err = await openaiError(await post("/embeddings", { ...embed, dimensions }), 400);
      assert.equal(err.param, "dimensions");
      assert.equal(err.code, code);
    });
  }

  test("the largest allowed dimensions still answers", async () => {
    const res = await post("/embeddings", { ...embed, dimensions: 3072 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
    assert.equal(body.data[0].embedding.length, 3072);
  });

  test("too many inputs, or inputs × dimensions past the cap, are a 400", async () => {
    const many = await openaiError(await post("/embeddings", { model: "e", input: Array.from({ length: 2049 }, () => "x") }), 400);
    assert.equal(many.param, "input");
    const big = await openaiError(
      await post("/embeddings", { model: "e", input: Array.from({ length: 2048 }, () => "x"), dimensions: 3072 }),
      400,
    );
    assert.equal(big.param, "dimensions");
    assert.match(big.message, /2048 inputs × 3072 dimensions/);
  });

  test("an unknown encoding_format is a 400 naming the allowed ones", async () => {
    const err = await openaiError(await post("/embeddings", { ...embed, encoding_format: "hex" }), 400);
    assert.equal(err.param, "encoding_format");
    assert.equal(err.code, "invalid_value");
    assert.match(err.message, /'float'.*'base64'/);
  });
});

describe("completion fields", () => {
  const cases: Array<{ name: string; path?: string; body: Record<string, unknown>; param: string; code: string }> = [
    { name: "n: 0", body: { ...chat, n: 0 }, param: "n", code: "integer_below_min_value" },
    { name: "n: 1e308", body: { ...chat, n: 1e308 }, param: "n", code: "integer_above_max_value" },
    { name: "n: '2'", body: { ...chat, n: "2" }, param: "n", code: "invalid_type" },
    { name: "n: 1.5", body: { ...chat, n: 1.5 }, param: "n", code: "invalid_type" },
    { name: "max_tokens: -1", body: { ...chat, max_tokens: -1 }, param: "max_tokens", code: "integer_below_min_value" },
    { name: "max_tokens: '5'", body: { ...chat, max_tokens: "5" }, param: "max_tokens", code: "invalid_type" },
    { name: "max_completion_tokens: 2.5", body: { ...chat, max_completion_tokens: 2.5 }, param: "max_completion_tokens", code: "invalid_type" },
    { name: "stream: 'yes'", body: { ...chat, stream: "yes" }, param: "stream", code: "invalid_type" },
    { name: "stream_options: 'usage'", body: { ...chat, stream: true, stream_options: "usage" }, param: "stream_options", code: "invalid_type" },
    { name: "model: 42", body: { ...chat, model: 42 }, param: "model", code: "invalid_type" },
    { name: "no model", body: { messages: chat.messages }, param: "model", code: "missing_required_parameter" },
    { name: "messages: 'hi'", body: { model: "m", messages: "hi" }, param: "messages", code: "invalid_type" },
    { name: "no messages", body: { model: "m" }, param: "messages", code: "missing_required_parameter" },
    { name: "prompt: 42", path: "/completions", body: { model: "m", prompt: 42 }, param: "prompt", code: "invalid_type" },
    { name: "no prompt", path: "/completions", body: { model: "m" }, param: "prompt", code: "missing_required_parameter" },
    { name: "embeddings input: 42", path: "/embeddings", body: { model: "e", input: 42 }, param: "input", code: "invalid_type" },
    { name: "embeddings input: []", path: "/embeddings", body: { model: "e", input: [] }, param: "input", code: "invalid_value" },
  ];
  for (const c of cases) {
    test(`${c.name} is a 400 naming '${c.param}'`, async () => {
      const err = await openaiError(await post(c.path ?? "/chat/completions", c.body), 400);
      assert.equal(err.param, c.param);
      assert.equal(err.code, c.code);
    });
  }

  test("a huge max_tokens only limits, and null fields count as absent", async () => {
    const res = await post("/chat/completions", { ...chat, max_tokens: 1e15, n: null, stream: null, dimensions: null });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    assert.equal(body.usage.completion_tokens, 12);
  });
});

describe("x-mock-* headers", () => {
  const bad: Array<[string, string]> = [
    ["x-mock-tokens", "1e308"],
    ["x-mock-tokens", "100001"],
    ["x-mock-tokens", "1.5"],
    ["x-mock-tokens", "-1"],
    ["x-mock-tokens", "lots"],
    ["x-mock-latency", "1e308"],
    ["x-mock-latency", "soon"],
    ["x-mock-latency", "-5"],
    ["x-mock-latency", "25d"],
    ["x-mock-ttft", "99999999999"],
    ["x-mock-ttft", "NaN"],
    ["x-mock-tps", "Infinity"],
    ["x-mock-tps", "-1"],
    ["x-mock-tps", "fast"],
  ];
  for (const [name, value] of bad) {
    test(`${name}: ${value} is a 400 naming the header`, async () => {
      const res = await post("/chat/completions", chat, { [name]: value });
      const err = await openaiError(res, 400);
      assert.equal(err.code, "mock_bad_header");
      assert.ok(err.message.includes(name), err.message);
      assert.ok(err.message.includes(value), err.message);
    });
  }

  test("durations with units and the largest token count are accepted", async () => {
    const res = await post("/chat/completions", chat, { "x-mock-latency": "0s", "x-mock-ttft": "0ms", "x-mock-tokens": "100000" });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    assert.equal(body.usage.completion_tokens, 100_000);
  });

  test("bad fault values are a 400 before anything is scheduled", async () => {
    for (const fault of ["trickle;interval=1e308", "status=503;retry-after=1e308", "status=99", "explode"]) {
      const err = await openaiError(await post("/chat/completions", chat, { "x-mock-fault": fault }), 400);
      assert.equal(err.code, "mock_bad_header");
    }
  });
});

describe("faults that used to crash", () => {
  test("trickle with no interval over a long reply ends instead of overflowing the stack", async () => {
    const res = await post("/chat/completions", chat, { "x-mock-fault": "trickle;interval=0;size=1", "x-mock-tokens": "100000" });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    assert.equal(body.usage.completion_tokens, 100_000);
    await stillServing();
  });

  test("a token gap longer than a Node timer can hold waits instead of firing at once", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on("warning", onWarning);
    const controller = new AbortController();
    try {
      // One token per 1e10 s: the gap after the first token overflows a 32-bit timer.
      const res = await fetch(`${mock.url}/chat/completions`, {
        method: "POST",
        headers: { "x-mock-tps": "1e-10", "x-mock-tokens": "3" },
        body: JSON.stringify({ ...chat, stream: true }),
        signal: controller.signal,
      });
      const first = await res.body!.getReader().read();
      assert.match(new TextDecoder().decode(first.value), /"role":"assistant"/);
      // The mock sets the next timer in the same tick that writes the first token; Node warns of an overflow a tick later.
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
      controller.abort();
    }
  });

  test("status=204 sends no body and no content-length", async () => {
    const res = await post("/chat/completions", chat, { "x-mock-fault": "status=204" });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("content-length"), null);
    assert.equal(await res.text(), "");
    await stillServing();
  });
});

describe("bodies, paths and methods", () => {
  test("malformed JSON and JSON that is not an object are a 400 invalid_json", async () => {
    for (const body of ["{not json", '{"model":', "[1,2]", "42", "null", '"text"', "[".repeat(100_000)]) {
      const err = await openaiError(await post("/chat/completions", body), 400);
      assert.equal(err.code, "invalid_json");
    }
    const empty = await fetch(`${mock.url}/chat/completions`, { method: "POST" });
    assert.equal((await openaiError(empty, 400)).code, "invalid_json");
  });

  test("unknown paths and methods are a 404 naming the request", async () => {
    const probes: Array<[string, string, string | undefined]> = [
      ["DELETE", "/chat/completions", undefined],
      ["PUT", "/embeddings", JSON.stringify(embed)],
      ["GET", "/embeddings", undefined],
      ["POST", "/models", "{}"],
      ["PUT", "/responses", JSON.stringify(chat)],
      ["GET", "/../../etc/passwd", undefined],
    ];
    for (const [method, path, body] of probes) {
      const res = await fetch(`${mock.url}${path}`, { method, body });
      const err = await openaiError(res, 404);
      assert.equal(err.code, "unknown_url");
      assert.match(err.message, new RegExp(method));
    }
    const head = await fetch(`${mock.url}/chat/completions`, { method: "HEAD" });
    assert.equal(head.status, 404);
  });

  test("a body over the limit is a 413 sent before the upload ends, and nothing of it is kept", async () => {
    const small = await startMockUpstream({ maxBodyBytes: 1024 });
    try {
      const { status, body, headersBeforeEnd } = await uploadPast(small, 1024);
      assert.equal(headersBeforeEnd, true, "the 413 came while the client was still sending");
      assert.equal(status, 413);
      const err = (JSON.parse(body) as ErrorBody).error;
      assert.equal(err.type, "invalid_request_error");
      assert.equal(err.code, "request_too_large");
      assert.match(err.message, /1024 bytes/);
      assert.equal(small.requests.at(-1)?.body, null);
      const ok = await fetch(`${small.url}/chat/completions`, { method: "POST", body: JSON.stringify(chat) });
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
    } finally {
      await small.close();
    }
  });

  test("server options past the limits are refused when the mock is made", async () => {
    await assert.rejects(startMockUpstream({ tokens: 1e308 }), RangeError);
    await assert.rejects(startMockUpstream({ tokens: 1.5 }), RangeError);
    await assert.rejects(startMockUpstream({ latencyMs: 1e308 }), RangeError);
    await assert.rejects(startMockUpstream({ ttftMs: -1 }), RangeError);
    await assert.rejects(startMockUpstream({ tokensPerSecond: Number.NaN }), RangeError);
    await assert.rejects(startMockUpstream({ maxBodyBytes: 0 }), RangeError);
  });
});

/**
 * Sends a body that never ends until the response arrives: the first piece
 * crosses `limit`, and the upload stays open. Resolves with the response,
 * and whether its headers came before the client ended the upload.
 */
function uploadPast(target: MockUpstream, limit: number): Promise<{ status: number; body: string; headersBeforeEnd: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${target.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" } });
    let ended = false;
    req.on("response", (res) => {
      const headersBeforeEnd = !ended;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headersBeforeEnd }));
      res.on("error", reject);
      ended = true;
      req.end();
    });
    req.on("error", reject);
    req.write(`{"model":"m","messages":[{"role":"user","content":"${"x".repeat(limit * 2)}`);
  });
}
