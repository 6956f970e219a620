/**
 * An OpenAI-compatible upstream that misbehaves on purpose, chosen by the
 * model name it is asked for: it echoes the credential it was sent into
 * every field of its errors, cuts it across an excerpt boundary, or puts it
 * in a mid-stream error event. Any other model answers normally.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type HostileModel =
  | "echo-fields" // 400 with the key in message, type, code and param
  | "echo-fields-500" // the same, retryable
  | "html-split" // 502 non-JSON body with the key starting at character 190
  | "stream-error-key" // a good first event, then an error event quoting the key
  | "error-200" // a 200 whose body is a server error quoting the key
  | "ok";

export class HostileUpstream {
  readonly server: Server;
  url = "";
  hits = 0;

  constructor() {
    this.server = createServer((req, res) => this.#answer(req, res));
  }

  async listen(): Promise<this> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      this.hits++;
      const key = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
      if (req.method === "GET") return json(res, 200, { object: "list", data: [] });
      let body: { model?: string; stream?: boolean } = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString("utf8"));
      } catch {
        return json(res, 400, { error: { message: "bad json", type: "invalid_request_error", code: null, param: null } });
      }
      const model = body.model as HostileModel;
      const fields = { message: `bad key ${key}`, type: `type-${key}`, code: `code-${key}`, param: `Authorization: Bearer ${key}` };
      switch (model) {
        case "echo-fields":
          return json(res, 400, { error: fields });
        case "echo-fields-500":
          return json(res, 500, { error: fields });
        case "error-200":
          return json(res, 200, { error: { message: `overloaded, key ${key}`, type: "server_error", code: "server_error" } });
        case "html-split": {
          const text = `<html>${"x".repeat(184)}${key} trailing page text</html>`;
          res.writeHead(502, { "content-type": "text/html", "content-length": Buffer.byteLength(text) });
          return res.end(text);
        }
        case "stream-error-key": {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(`data: ${JSON.stringify(chunk("hello"))}\n\n`);
          res.end(`data: ${JSON.stringify({ error: { ...fields, status: 401 } })}\n\n`);
          return;
        }
        default:
          if (body.stream === true) {
            res.writeHead(200, { "content-type": "text/event-stream" });
            res.write(`data: ${JSON.stringify(chunk("hello"))}\n\n`);
            res.end("data: [DONE]\n\n");
            return;
          }
          return json(res, 200, {
            id: "chatcmpl-1",
            object: "chat.completion",
            created: 0,
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
          });
      }
    });
  }
}

function chunk(text: string) {
  return { id: "c1", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] };
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
