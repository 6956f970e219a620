import assert from "node:assert/strict";
import { test } from "node:test";
import { redact } from "../src/protocol/redact.ts";
import { eventData, firstEventEnd, lastEventEnd, sseData } from "../src/protocol/sse.ts";

const b = (s: string) => Buffer.from(s);

test("lastEventEnd finds the end of the last complete event", () => {
  assert.equal(lastEventEnd(b("data: a\n\n")), 9);
  assert.equal(lastEventEnd(b("data: a\n\ndata: b")), 9);
  assert.equal(lastEventEnd(b("data: a\r\n\r\ndata: b")), 11);
  assert.equal(lastEventEnd(b("data: partial")), 0);
  assert.equal(lastEventEnd(b("")), 0);
});

test("firstEventEnd finds the end of the first event", () => {
  assert.equal(firstEventEnd(b("data: a\n\ndata: b\n\n")), 9);
  assert.equal(firstEventEnd(b("data: a\n")), 0);
});

test("eventData joins data lines and ignores comments", () => {
  assert.equal(eventData("data: {\"a\":1}\n\n"), '{"a":1}');
  assert.equal(eventData(": keep-alive\n\n"), undefined);
  assert.equal(eventData("event: x\ndata: one\ndata: two"), "one\ntwo");
});

test("sseData splits a chunked byte stream into event payloads", async () => {
  async function* chunks() {
    yield b("data: one\n");
    yield b("\ndata: t");
    yield b("wo\r\n\r\n: comment\n\ndata: [DONE]\n\n");
  }
  const out: string[] = [];
  for await (const d of sseData(chunks())) out.push(d);
  assert.deepEqual(out, ["one", "two", "[DONE]"]);
});

test("redact removes configured keys and key-shaped strings", () => {
  assert.equal(redact("bad key my-custom-secret!", ["my-custom-secret"]), "bad key [redacted]!");
  assert.equal(redact("Incorrect API key provided: sk-proj-abc123def456", []), "Incorrect API key provided: [redacted]");
  assert.equal(redact("nothing here", ["xyzw"]), "nothing here");
});
