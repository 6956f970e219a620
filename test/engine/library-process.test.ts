/**
 * The in-process library run the way a user runs it: a standalone script in
 * its own process, which must stay alive while it awaits the gateway (a
 * stream's next token, a retry's backoff) and exit on its own when done.
 * The README's examples are run as they are written, importing this checkout.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { startMockUpstream, type MockUpstream } from "../../src/mock/index.ts";
import { cleanEnv } from "../cli/util.ts";
import { closedPort } from "../server/util.ts";

const ENTRY = pathToFileURL(new URL("../../src/index.ts", import.meta.url).pathname).href;
const README = new URL("../../README.md", import.meta.url);

/** The TypeScript blocks of one README section, in order. */
async function readmeExamples(heading: string): Promise<string[]> {
  const text = await readFile(README, "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  assert.notEqual(start, -1, `README has a "${heading}" section`);
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script with the Node that runs the tests, as a process of its own. */
async function run(dir: string, name: string, source: string): Promise<Run> {
  const file = join(dir, name);
  await writeFile(file, source.replaceAll('from "switchyard"', `from ${JSON.stringify(ENTRY)}`));
  const child = spawn(process.execPath, [file], { cwd: dir, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

describe("the library in a process of its own", () => {
  let dir: string;
  let mock: MockUpstream;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchyard-library-"));
    mock = await startMockUpstream({ tokens: 4 });
  });
  after(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the README's in-process examples run to the end and exit 0", async () => {
    const examples = await readmeExamples("In-process, as a library");
    assert.ok(examples.length > 0, "the section has a ts example");
    for (const [i, source] of examples.entries()) {
      const r = await run(dir, `readme-${i}.mts`, source);
      assert.equal(r.code, 0, `example ${i} exited ${r.code}; stderr: ${r.stderr}`);
      // The first example streams the demo model's reply to stdout.
      if (i === 0) assert.equal(r.stdout, "Hello from the Switchyard demo. The quick brown fox jumps over the");
    }
  });

  test("a script waits out the backoff after a refused connection and gets the second target's answer", async () => {
    const port = await closedPort();
    const before = mock.requests.length;
    const script = `
import { createGateway } from "switchyard";
const gw = await createGateway(
  {
    providers: {
      down: { type: "openai", base_url: "http://127.0.0.1:${port}/v1" },
      up: { type: "openai", base_url: ${JSON.stringify(mock.url)} },
    },
    models: {
      chat: {
        targets: [{ provider: "down", model: "m", priority: 0 }, { provider: "up", model: "m", priority: 1 }],
        retry: { attempts: 2, base_delay: "100ms", max_delay: "100ms" },
      },
    },
  },
  { random: () => 0.5 },
);
const res = await gw.request("chat", { model: "chat", messages: [{ role: "user", content: "hi" }] });
const reply = JSON.parse(res.body.toString("utf8"));
console.log(JSON.stringify({ attempts: res.attempts.map((a) => a.code ?? a.status), content: reply.choices[0].message.content }));
await gw.close();
`;
    const r = await run(dir, "backoff.mts", script);
    assert.equal(r.code, 0, `exited ${r.code}; stdout: ${r.stdout}; stderr: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), {
      attempts: ["SY_ERR_UPSTREAM_CONNECT", 200],
      content: "Hello from the Switchyard",
    });
    assert.equal(mock.requests.length, before + 1);
  });
});
