import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { runMock } from "../../src/cli/mock.ts";

test("bad flags are rejected before anything listens", async () => {
  // Durations and sizes are the config file's: the same units, bounds and messages.
  await assert.rejects(runMock(["--latency", "soon"]), /^Error: --latency: invalid duration "soon": expected a non-negative number with a unit \(ms, s, m, h\)/);
  await assert.rejects(runMock(["--ttft=-5ms"]), /--ttft: invalid duration/);
  await assert.rejects(runMock(["--ttft", "25d"]), /--ttft: .*unknown unit "d"/);
  await assert.rejects(runMock(["--latency", "999999999999"]), /--latency: .*longer than the maximum of 24 days/);
  await assert.rejects(runMock(["--max-body", "lots"]), /--max-body: invalid size "lots"/);
  await assert.rejects(runMock(["--max-body", "0"]), /--max-body: .*refuse every request/);
  await assert.rejects(runMock(["--tokens", "1e308"]), /--tokens: must be at most 100000/);
  await assert.rejects(runMock(["--fault", "explode"]), /--fault: .*'explode'/);
  await assert.rejects(runMock(["--tokens", "1.5"]), /--tokens/);
  await assert.rejects(runMock(["--port", "70000"]), /--port/);
  await assert.rejects(runMock(["--nope"]), /nope/);
});

test("the CLI prints its URL, serves, and exits cleanly on SIGTERM", async () => {
  const script = `import { runMock } from ${JSON.stringify(new URL("../../src/cli/mock.ts", import.meta.url).href)};
await runMock(["--port", "0", "--tokens", "2", "--models", "a,b", "--latency", "0s", "--ttft", "0h", "--max-body", "1kb"]);`;
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
    const chat = { model: "a", messages: [{ role: "user", content: "hi" }] };
    const reply = (await (await fetch(`${match[1]}/chat/completions`, { method: "POST", body: JSON.stringify(chat) })).json()) as {
      usage: { completion_tokens: number };
    };
    assert.equal(reply.usage.completion_tokens, 2);
    const big = { ...chat, messages: [{ role: "user", content: "x".repeat(2048) }] };
    const refused = await fetch(`${match[1]}/chat/completions`, { method: "POST", body: JSON.stringify(big) });
    assert.equal(refused.status, 413);
    await refused.arrayBuffer();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
