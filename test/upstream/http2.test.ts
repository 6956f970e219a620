import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type MockUpstream, startMockUpstream } from "../../src/mock/index.ts";
import { type Cli, startCli } from "../cli/util.ts";

const LISTENING = /switchyard listening on (http:\/\/[^"\s]+)/;

/** A self-signed certificate for 127.0.0.1, made with the openssl command line; undefined when there is none. */
async function selfSigned(dir: string): Promise<{ key: string; cert: string; certFile: string } | undefined> {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  try {
    await promisify(execFile)("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ]);
  } catch {
    return undefined;
  }
  return { key: await readFile(keyFile, "utf8"), cert: await readFile(certFile, "utf8"), certFile };
}

const post = (url: string, model: string, stream: boolean) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
  });

describe("HTTPS upstreams and pool.http2", () => {
  let dir: string;
  let tls: Awaited<ReturnType<typeof selfSigned>>;
  let h2: MockUpstream;
  let h1: MockUpstream;
  let cli: Cli;
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchyard-h2-"));
    tls = await selfSigned(dir);
    if (tls === undefined) return;
    h2 = await startMockUpstream({ tls, tokens: 400, tokensPerSecond: 200 });
    h1 = await startMockUpstream({ tls, tokens: 5 });
    const config = join(dir, "switchyard.yaml");
    await writeFile(
      config,
      [
        "providers:",
        `  two: { type: openai, base_url: "${h2.url}", pool: { http2: true } }`,
        // The mock paces whole answers too: this provider asks it for a short one.
        `  two-short: { type: openai, base_url: "${h2.url}", pool: { http2: true }, headers: { x-mock-tokens: "3" } }`,
        `  one: { type: openai, base_url: "${h1.url}" }`,
        "models:",
        "  over-h2: { targets: [two/mock-model] }",
        "  over-h2-short: { targets: [two-short/mock-model] }",
        "  over-h1: { targets: [one/mock-model] }",
      ].join("\n"),
    );
    // Node's standard way to trust a private CA: the gateway needs no TLS settings of its own.
    cli = startCli(["serve", "--config", config, "--port", "0"], { env: { NODE_EXTRA_CA_CERTS: tls.certFile } });
    [, url] = await cli.waitFor(LISTENING);
  });
  after(async () => {
    await cli?.stop();
    await h2?.close();
    await h1?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("http2: true speaks HTTP/2 to the upstream, for whole answers and streams", async (t) => {
    if (tls === undefined) return t.skip("openssl is not installed (apt-get install openssl)");
    h2.reset();
    const whole = await post(url, "over-h2-short", false);
    assert.equal(whole.status, 200, await whole.clone().text());
    assert.equal(((await whole.json()) as { object: string }).object, "chat.completion");
    const res = await post(url, "over-h2", true);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    // A client that leaves mid-stream cancels the upstream HTTP/2 stream too.
    const aborted = new Promise((resolve) => h2.once("abort", resolve));
    await reader.cancel();
    await aborted;
    assert.deepEqual(h2.requests.map((r) => r.httpVersion), ["2.0", "2.0"]);
  });

  test("without it, the same HTTPS upstream is spoken to over HTTP/1.1", async (t) => {
    if (tls === undefined) return t.skip("openssl is not installed (apt-get install openssl)");
    h1.reset();
    const res = await post(url, "over-h1", true);
    assert.equal(res.status, 200);
    assert.ok((await res.text()).endsWith("data: [DONE]\n\n"));
    assert.deepEqual(h1.requests.map((r) => r.httpVersion), ["1.1"]);
  });
});
