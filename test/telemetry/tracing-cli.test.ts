/**
 * `switchyard serve` with tracing, as a process: the spans of a request have
 * reached the collector when the process exits on SIGTERM (the batch would
 * otherwise wait 5 s), and without a config file the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT variable turns tracing on.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startCli } from "../cli/util.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../helpers/otlp-receiver.ts";

const LISTENING = /switchyard listening on (http:\/\/[^"\s]+)/;
const TRACE_ID = "5af7651916cd43dd8448eb211c80319c";
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

let dir: string;
let receiver: OtlpReceiver;

before(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "switchyard-tracing-")));
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

async function ask(url: string, model: string): Promise<void> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: TRACEPARENT },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

describe("switchyard serve with tracing", { concurrency: false }, () => {
  test("sends the spans on SIGTERM and names the collector (without credentials) when it starts", async (t) => {
    receiver.spans.length = 0;
    const file = join(dir, "config.yaml");
    const endpoint = receiver.url.replace("http://", "http://user:collector-secret@");
    await writeFile(
      file,
      `providers:\n  demo: { type: demo }\nmodels:\n  chat: { targets: [demo/demo-1] }\ntelemetry:\n  otlp_endpoint: ${endpoint}\n  service_name: from-file\n`,
    );
    const cli = startCli(["serve", "--config", file, "--port", "0"]);
    t.after(() => cli.stop());
    const [, url] = await cli.waitFor(LISTENING);
    await ask(url, "chat");
    assert.equal(await cli.stop(), 0);

    const spans = receiver.spans.filter((s) => s.traceId === TRACE_ID);
    assert.deepEqual(spans.map((s) => s.name).sort(), ["chat chat", "chat demo-1"]);
    assert.equal(spans[0].resource["service.name"], "from-file");
    const line = JSON.parse(cli.stdout().split("\n").find((l) => LISTENING.test(l))!) as { tracing?: string };
    assert.equal(line.tracing, `${receiver.url}/v1/traces`);
    assert.ok(!cli.stdout().includes("collector-secret"));
  });

  test("without a config file, OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME turn it on", async (t) => {
    receiver.spans.length = 0;
    // A directory without a switchyard.yaml, so the config comes from the environment.
    const cwd = join(dir, "no-config");
    await mkdir(cwd);
    const cli = startCli(["serve", "--port", "0"], { cwd, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "from-env" } });
    t.after(() => cli.stop());
    const [, url] = await cli.waitFor(LISTENING);
    await ask(url, "demo");
    assert.equal(await cli.stop(), 0);
    const spans = receiver.spans.filter((s) => s.traceId === TRACE_ID);
    assert.equal(spans.length, 2);
    assert.equal(spans[0].resource["service.name"], "from-env");
  });
});

