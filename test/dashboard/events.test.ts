/**
 * The event streams on a fake clock: heartbeats, the end of every stream once
 * the server stops listening, and a graceful shutdown of a gateway with a
 * dashboard open.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { EventStreams } from "../../src/server/dashboard/events.ts";
import { shutdown } from "../../src/server/shutdown.ts";
import { RecentRequests } from "../../src/telemetry/recent-requests.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startGateway } from "../helpers/gateway.ts";
import { SseReader } from "./sse.ts";

async function serveStreams(streams: EventStreams): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => streams.serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

const end = (i: number) => ({ gateway: {}, requestId: `r${i}`, model: "m", stream: false, status: 200, attempts: 1, durationMs: 1 });

test("a heartbeat comment every `heartbeatTicks` ticks, new entries as they come, and a clean end once the server is stopping", async () => {
  const clock = new FakeClock();
  const recent = new RecentRequests(10, () => clock.now());
  let stopping = false;
  const streams = new EventStreams(recent, { clock, stopping: () => stopping, tickMs: 1000, heartbeatTicks: 3 });
  const { url, server } = await serveStreams(streams);
  try {
    const reader = new SseReader((await fetch(url)).body!);
    assert.equal((await reader.next())?.retry, "3000");
    assert.equal(streams.size, 1);
    assert.deepEqual(clock.pending(), [1000], "one ticker");
    clock.advance(2000);
    recent.add(end(1));
    const first = await reader.next();
    assert.equal(first?.event, "request", "no heartbeat before the third tick");
    assert.equal(first?.id, "1");
    clock.advance(1000);
    assert.deepEqual((await reader.next())?.comments, ["keep-alive"]);

    stopping = true;
    clock.advance(1000);
    assert.equal(await reader.next(), undefined);
    assert.equal(reader.ended, true, "the stream ended, not cut");
    assert.deepEqual(clock.pending(), [], "the ticker stopped with the last stream");
  } finally {
    await close(server);
  }
});

test("the ticker runs only while a stream is open", async () => {
  const clock = new FakeClock();
  const streams = new EventStreams(new RecentRequests(4), { clock, stopping: () => false });
  const { url, server } = await serveStreams(streams);
  try {
    const a = new SseReader((await fetch(url)).body!);
    const b = new SseReader((await fetch(url)).body!);
    await a.next();
    await b.next();
    assert.equal(streams.size, 2);
    assert.equal(clock.pending().length, 1);
    await a.cancel();
    await b.cancel();
    await new Promise<void>((resolve) => {
      const check = () => (streams.size === 0 ? resolve() : setImmediate(check));
      check();
    });
    assert.deepEqual(clock.pending(), []);
  } finally {
    await close(server);
  }
});

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

test("a graceful shutdown ends an open dashboard stream cleanly", async () => {
  const gw = await startGateway({ providers: { a: { type: "openai", base_url: mock.url } }, models: { fast: { targets: ["a/m1"] } } });
  const reader = new SseReader((await fetch(`${gw.url}/dashboard/events`)).body!);
  assert.equal((await reader.next())?.retry, "3000");
  const stopped = shutdown(gw.running, gw.engine);
  // Read to the end: a stream cut by the server's final close would reject instead.
  while ((await reader.next()) !== undefined);
  assert.equal(reader.ended, true);
  await stopped;
  assert.equal(gw.running.server.listening, false);
});
