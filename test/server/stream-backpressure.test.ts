import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { chatChunkEvents, replyTokens, startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { chat, startGateway, type TestGateway } from "../helpers/gateway.ts";

const TOKENS = 20_000;

/** Decodes a chunked HTTP/1.1 body, asserting every size line matches its data; undefined until the last chunk is in. */
function dechunk(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = Number.parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    assert.ok(Number.isInteger(size), `a chunk size line at ${at}`);
    if (eol + 4 + size > raw.length) return undefined;
    if (size === 0) return Buffer.concat(parts);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    assert.equal(raw.subarray(eol + 2 + size, eol + 4 + size).toString("latin1"), "\r\n", "each chunk ends with CRLF");
    at = eol + 4 + size;
  }
}

describe("a stream to a client that stops reading", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  const served: Socket[] = [];
  before(async () => {
    // tokensPerSecond 0: the mock sends the whole stream, megabytes of events, in one write.
    upstream = await startMockUpstream({ tokens: TOKENS, tokensPerSecond: 0 });
    gw = await startGateway({ providers: { up: { type: "openai", base_url: upstream.url } }, models: { m: { targets: ["up/x"] } } });
    gw.running.server.on("connection", (s: Socket) => served.push(s));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test("gets every byte, in order, once it reads again", async () => {
    const body = chat("m", { stream: true });
    const json = JSON.stringify(body);
    const { hostname, port } = new URL(gw.url);
    const client = connect(Number(port), hostname);
    await once(client, "connect");
    client.pause();
    const received: Buffer[] = [];
    client.on("data", (c: Buffer) => received.push(c));
    client.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
    );
    // Not reading: wait until the gateway finds the client full, then read everything.
    while (served.length === 0 || !served[0].writableNeedDrain) await new Promise<void>((r) => setImmediate(r));
    client.resume();
    let text: Buffer | undefined;
    while (text === undefined) {
      await once(client, "data");
      const all = Buffer.concat(received);
      const headEnd = all.indexOf("\r\n\r\n");
      if (headEnd !== -1) text = dechunk(all.subarray(headEnd + 4));
    }
    client.destroy();

    const first = /^data: \{"id":("[^"]+"),"object":"chat.completion.chunk","created":(\d+),/.exec(text.toString("utf8"));
    assert.ok(first, "the stream starts with a chunk event");
    const meta = { id: JSON.parse(first[1]) as string, created: Number(first[2]), model: "x" };
    const upstreamBody = { ...body, model: "x" };
    const expected = Buffer.from(chatChunkEvents(upstreamBody, replyTokens(upstreamBody, TOKENS), meta).join(""));
    assert.ok(expected.length > 2 * 1024 * 1024, "the burst is far larger than any socket buffer");
    assert.equal(text.length, expected.length, "no byte lost or added");
    assert.ok(text.equals(expected), "every byte in order");
  });
});
