import OpenAI from "openai";
import { resolveConfig } from "../../src/config/load.ts";
import { Engine, type EngineOptions } from "../../src/engine/gateway.ts";
import type { Logger } from "../../src/telemetry/log.ts";
import { createHttpServer, listen, type RunningServer } from "../../src/server/http.ts";

export interface TestGateway {
  url: string;
  engine: Engine;
  running: RunningServer;
  client: OpenAI;
  close(): Promise<void>;
}

/** Starts a gateway on an ephemeral port from a YAML-shaped config object. */
export async function startGateway(raw: Record<string, unknown>, options: EngineOptions = {}, logger?: Logger): Promise<TestGateway> {
  const config = resolveConfig(raw, { env: {}, source: "test" });
  const engine = new Engine(config, options);
  const running = await listen(createHttpServer(engine, logger), "127.0.0.1", 0);
  const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: "client-key-not-forwarded", maxRetries: 0 });
  return {
    url: running.url,
    engine,
    running,
    client,
    async close() {
      await running.close();
      await engine.close();
    },
  };
}

/** POSTs JSON (or raw text) to the gateway and returns status, headers and body text. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** POSTs a streamed chat request for `model` to the gateway; `signal` lets the test leave it. */
export function openChatStream(url: string, signal?: AbortSignal, model = "m"): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(chat(model, { stream: true })),
    signal,
  });
}

export const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});
