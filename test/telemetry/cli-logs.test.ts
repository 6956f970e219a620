import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, startCli } from "../cli/util.ts";

const LISTENING = /switchyard listening on (http:\/\/[^"\s]+)/;
const KEY = "sk-provider-key-for-the-log-test-0123";

async function config(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-logs-"));
  const file = join(dir, "switchyard.yaml");
  // The provider is never called: the key is there to be kept out of the logs.
  await writeFile(file, `providers:\n  d: { type: demo }\n  up: { type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "${KEY}" }\nmodels:\n  chat: { targets: [d/demo-1] }\n`);
  return file;
}

test("serve --log-format pretty writes one readable line per request, and no key", async (t) => {
  const cli = startCli(["serve", "--config", await config(), "--port", "0", "--log-format", "pretty"]);
  t.after(() => cli.stop());
  const [, url] = await cli.waitFor(LISTENING);
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "pretty-req-1" },
    body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 200);
  const [line] = await cli.waitFor(/^.*pretty-req-1.*$/m);
  assert.match(line, /INFO/);
  assert.match(line, /request/);
  assert.match(line, /"model":"chat"/);
  assert.ok(!line.trimStart().startsWith("{"), "a readable line, not JSON");
  assert.equal(await cli.stop(), 0);
  assert.ok(!cli.stdout().includes(KEY));
});

test("an unknown --log-format is refused with the choices", async () => {
  const r = await runCli(["serve", "--config", await config(), "--port", "0", "--log-format", "xml"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--log-format: "xml" is not one of json, pretty/);
});
