import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { watchConfig, WATCH_DEBOUNCE_MS } from "../../src/cli/watch-config.ts";
import { silentLogger } from "../../src/telemetry/log.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

test("server.watch_config: writes to the file become one reload after the debounce", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sy-watch-"));
  const file = join(dir, "switchyard.yaml");
  await writeFile(file, "models: {}\n");
  const clock = new FakeClock();
  let reloads = 0;
  const stop = watchConfig(file, () => reloads++, silentLogger, clock);
  t.after(async () => {
    stop();
    await rm(dir, { recursive: true });
  });
  await writeFile(file, "models: {}\n# edited\n");
  await clock.waitForTimer((ms) => ms === WATCH_DEBOUNCE_MS);
  assert.equal(reloads, 0, "nothing before the debounce");
  clock.advance(WATCH_DEBOUNCE_MS);
  assert.equal(reloads, 1);
});
