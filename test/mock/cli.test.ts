import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { parseDurationMs, runMock } from "../../src/cli/mock.ts";

test("durations accept ms, s, m and bare milliseconds", () => {
  assert.equal(parseDurationMs("latency", "50ms"), 50);
  assert.equal(parseDurationMs("latency", "2s"), 2000);
  assert.equal(parseDurationMs("latency", "0.5s"), 500);
  assert.equal(parseDurationMs("latency", "1m"), 60_000);
  assert.equal(parseDurationMs("latency", "150"), 150);
  assert.throws(() => parseDurationMs("ttft", "soon"), /--ttft: .*'soon'/);
  assert.throws(() => parseDurationMs("ttft", "-5ms"), /--ttft/);
});

test("bad flags are rejected before anything listens", async () => {
  await assert.rejects(runMock(["--latency", "soon"]), /--latency/);
  await assert.rejects(runMock(["--fault", "explode"]), /--fault: .*'explode'/);
  await assert.rejects(runMock(["--tokens", "1.5"]), /--tokens/);
  await assert.rejects(runMock(["--port", "70000"]), /--port/);
  await assert.rejects(runMock(["--nope"]), /nope/);
});

test("the CLI prints its URL, serves, and exits cleanly on SIGTERM", async () => {
  const script = `import { runMock } from ${JSON.stringify(new URL("../../src/cli/mock.ts", import.meta.url).href)};
await runMock(["--port", "0", "--tokens", "2", "--models", "a,b"]);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    let out = "";
    child.stdout.setEncoding("utf8");
    while (!out.includes("\n")) {
      const [chunk] = (await once(child.stdout, "data")) as [string];
      out += chunk;
    }
    const match = /^mock upstream listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n$/.exec(out);
    assert.ok(match, `unexpected output: ${out}`);
    const models = (await (await fetch(`${match[1]}/models`)).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["a", "b"],
    );
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
