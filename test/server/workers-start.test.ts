import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import { test } from "node:test";
import { resolveConfig } from "../../src/config/load.ts";
import { startWorkers } from "../../src/server/workers.ts";
import { silentLogger } from "../../src/telemetry/log.ts";

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** "refused" when nothing accepts on the port, "accepted" when something does. */
function dial(port: number): Promise<"accepted" | "refused"> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("error", () => resolve("refused"));
  });
}

test("a worker that cannot start ends the start: the workers already serving are stopped, none is left on the port", async () => {
  const port = await freePort();
  const config = resolveConfig(
    { server: { port, log_level: "silent" }, providers: { demo: { type: "demo" } }, models: {} },
    { env: {}, source: "test" },
  );
  const entry = new URL("./fixtures/worker-failing-after-first.ts", import.meta.url);
  await assert.rejects(startWorkers(config, 3, silentLogger, { entry }), /this worker cannot start/);
  assert.equal(await dial(port), "refused", "the first worker, which had bound the port, no longer serves");
});
