/**
 * A fake upstream (OpenAI-compatible, and Anthropic's Messages API through
 * ./anthropic-wire.ts) for tests, benchmarks and demos, with
 * latency, pacing and fault injection. Benchmarks drive it hard, so the
 * request path avoids logging and per-token work beyond string concatenation.
 */
import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { Socket } from "node:net";
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { responsesReply } from "./responses-wire.ts";
import { anthropicAnswer, errorJson as anthropicError, isAnthropicRoute } from "./anthropic-wire.ts";
import { applyHeaders, checkBody, checkOptions } from "./checks.ts";
import type { Knobs, Problem } from "./checks.ts";
import { parseFault } from "./faults.ts";
import type { FaultSpec } from "./faults.ts";
import { azureRoute } from "./azure.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./limits.ts";
import { chatPlan } from "./openai-tools.ts";
import * as wire from "./openai-wire.ts";
import { geminiAnswer, isGeminiPath, sendGeminiFault } from "./gemini-wire.ts";
import { errorJson, later, realClock, sendFault, sendJson, sendReply } from "./respond.ts";
import type { Exchange as Base, MockClock, Reply } from "./respond.ts";

export interface MockOptions {
  host?: string;
  /** 0 picks an ephemeral port. */
  port?: number;
  /** Delay before response headers. */
  latencyMs?: number;
  /** Delay between headers and the first streamed token. */
  ttftMs?: number;
  /** 0 sends every token at once. */
  tokensPerSecond?: number;
  /** Reply length in tokens. */
  tokens?: number;
  /** Server-level fault spec applied to requests without an `x-mock-fault` header. */
  fault?: string;
  models?: string[];
  /**
   * When set, requests must carry one of these keys: as `Authorization: Bearer <key>`
   * or (Azure's way) `api-key: <key>` on OpenAI routes, `x-api-key` on Anthropic's;
   * any other gets a 401 in the route's shape. Gemini routes check the first key.
   */
  apiKey?: string | string[];
  /** Keys that OpenAI routes answer with a 429 `insufficient_quota`, as a key whose credit ran out is. */
  quotaKeys?: string[];
  /**
   * Serve HTTPS with this key and certificate (PEM), offering HTTP/2 and
   * HTTP/1.1 by ALPN. Fault injection that cuts sockets is meant for plain HTTP.
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Keep `requests`; long benchmark runs turn this off so memory stays flat. Default true. */
  record?: boolean;
  /** Larger request bodies get a 413 as soon as they cross it. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Time for latency, pacing and trickling; a test passes a fake clock and moves it itself. */
  clock?: MockClock;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | null;
  /** True when the client went away before the response finished. */
  aborted: boolean;
  /** "1.1", or "2.0" over HTTP/2. */
  httpVersion: string;
  /** The status the mock answered with, once it has written the response head; undefined while it holds the request. */
  status: number | undefined;
}

interface MockEvents {
  request: [RecordedRequest];
  abort: [RecordedRequest];
}

interface Exchange extends Base {
  record: RecordedRequest;
  announced: boolean;
}

const DEFAULT_MODELS = ["mock-model", "gpt-4o-mini", "text-embedding-3-small"];
const ROUTES: Record<string, "chat" | "completions" | "embeddings"> = {
  "POST /v1/chat/completions": "chat",
  "POST /v1/completions": "completions",
  "POST /v1/embeddings": "embeddings",
};
const noop = (): void => {};

export class MockUpstream extends EventEmitter<MockEvents> {
  readonly requests: RecordedRequest[] = [];
  #server: Server | Http2SecureServer;
  #sockets = new Set<Socket>();
  #opts: Required<Omit<MockOptions, "fault" | "apiKey" | "quotaKeys" | "tls" | "clock">> & {
    apiKeys: string[] | undefined;
    quotaKeys: string[];
    tls: MockOptions["tls"];
  };
  #clock: MockClock;
  #fault: FaultSpec | null = null;
  #faultLeft = Infinity;
  #modelsJson: string;
  #active = new Set<Exchange>();
  #closing: Promise<void> | undefined;
  #port = 0;
  #url = "";

  /** Use startMockUpstream(); the constructor does not listen. */
  constructor(options: MockOptions = {}) {
    super();
    this.#opts = {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      latencyMs: options.latencyMs ?? 0,
      ttftMs: options.ttftMs ?? 0,
      tokensPerSecond: options.tokensPerSecond ?? 0,
      tokens: options.tokens ?? 12,
      models: options.models ?? DEFAULT_MODELS,
      apiKeys: typeof options.apiKey === "string" ? [options.apiKey] : options.apiKey,
      quotaKeys: options.quotaKeys ?? [],
      record: options.record ?? true,
      tls: options.tls,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    };
    this.#clock = options.clock ?? realClock;
    const o = this.#opts;
    checkOptions({ latencyMs: o.latencyMs, ttftMs: o.ttftMs, tps: o.tokensPerSecond, tokens: o.tokens, maxBodyBytes: o.maxBodyBytes });
    if (options.fault !== undefined) this.setFault(options.fault);
    this.#modelsJson = JSON.stringify(wire.modelList(this.#opts.models));
    const accept = (req: IncomingMessage, res: ServerResponse) => this.#accept(req, res);
    const count = (socket: Socket) => {
      this.connections++;
      this.openConnections++;
      this.#sockets.add(socket);
      socket.once("close", () => {
        this.openConnections--;
        this.#sockets.delete(socket);
      });
    };
    if (options.tls === undefined) {
      const server = createServer(accept);
      // Pooled client connections must outlive the gaps between benchmark requests.
      server.keepAliveTimeout = 60_000;
      server.on("connection", count);
      this.#server = server;
    } else {
      // The compatibility API gives HTTP/2 streams the request/response shape the handlers use.
      const server = createSecureServer({ ...options.tls, allowHTTP1: true }, accept as never);
      server.on("secureConnection", count);
      this.#server = server;
    }
  }

  /** TCP connections accepted so far, and those open now: shows whether clients pool and reuse them. */
  connections = 0;
  openConnections = 0;

  /** Base URL including `/v1`, e.g. `http://127.0.0.1:9001/v1`. */
  get url(): string {
    return this.#url;
  }

  get port(): number {
    return this.#port;
  }

  /** Starts listening; startMockUpstream() calls this for you. */
  async listen(): Promise<this> {
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#opts.port, this.#opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    this.#port = typeof addr === "object" && addr !== null ? addr.port : this.#opts.port;
    const host = this.#opts.host.includes(":") ? `[${this.#opts.host}]` : this.#opts.host;
    this.#url = `${this.#opts.tls === undefined ? "http" : "https"}://${host}:${this.#port}/v1`;
    return this;
  }

  /** Replaces the server-level fault; `null` clears it. `opts.times` overrides the spec's `times`. */
  setFault(spec: string | null, opts: { times?: number } = {}): void {
    const fault = spec === null ? null : parseFault(spec);
    this.#fault = fault;
    this.#faultLeft = opts.times ?? fault?.times ?? Infinity;
  }

  /** Replaces the list `GET /v1/models` answers with. */
  setModels(names: string[]): void {
    this.#modelsJson = JSON.stringify(wire.modelList(names));
  }

  reset(): void {
    this.requests.length = 0;
    this.setFault(null);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const ex of this.#active) this.#clock.clearTimeout(ex.timer);
      this.#server.close(() => resolve());
      // Stalled and streaming responses would otherwise hold close() open forever.
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  /**
   * Requests the mock has not finished answering (stalled, delayed or mid-stream):
   * with a fake clock, proof that a client is kept waiting without timing it.
   */
  holding(): RecordedRequest[] {
    return [...this.#active].filter((ex) => !ex.res.writableEnded).map((ex) => ex.record);
  }

  #accept(req: IncomingMessage, res: ServerResponse): void {
    const ex: Exchange = {
      res,
      record: {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: null,
        aborted: false,
        httpVersion: req.httpVersion,
        status: undefined,
      },
      rid: randomUUID(),
      clock: this.#clock,
      timer: undefined,
      deliberate: false,
      announced: false,
    };
    this.#active.add(ex);
    req.on("error", noop);
    res.on("error", noop);
    res.on("close", () => this.#closed(ex));
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (c: Buffer): void => {
      size += c.length;
      if (size <= this.#opts.maxBodyBytes) return void chunks.push(c);
      // Answer now rather than hold a body of any size; the rest of the upload is read and dropped.
      req.off("data", collect);
      req.off("end", handle);
      chunks.length = 0;
      req.resume();
      this.#announce(ex);
      const close = req.httpVersionMajor === 1 ? { connection: "close" } : undefined;
      const message = `The request body is larger than the mock's limit of ${this.#opts.maxBodyBytes} bytes.`;
      sendJson(ex, 413, errorJson(message, "invalid_request_error", "request_too_large"), close);
    };
    const handle = (): void => this.#handleSafely(ex, req, chunks);
    req.on("data", collect);
    req.on("end", handle);
  }

  /** A bug here must cost one request a 500, not the whole mock a crash. */
  #handleSafely(ex: Exchange, req: IncomingMessage, chunks: Buffer[]): void {
    try {
      this.#handle(ex, req, chunks);
    } catch (err) {
      this.#clock.clearTimeout(ex.timer);
      if (ex.res.headersSent) return void ex.res.destroy();
      sendJson(ex, 500, errorJson(`The mock failed to answer: ${(err as Error).message}`, "server_error", "mock_internal_error"));
    }
  }

  #announce(ex: Exchange): void {
    if (ex.announced) return;
    ex.announced = true;
    if (this.#opts.record) this.requests.push(ex.record);
    this.emit("request", ex.record);
  }

  #closed(ex: Exchange): void {
    this.#active.delete(ex);
    this.#clock.clearTimeout(ex.timer);
    // writableEnded: the mock ended the response itself (HTTP/2 responses report finished once their stream closes, however it closed).
    if (ex.res.writableEnded || ex.deliberate || this.#closing !== undefined) return;
    ex.record.aborted = true;
    this.#announce(ex);
    this.emit("abort", ex.record);
  }

  #handle(ex: Exchange, req: IncomingMessage, chunks: Buffer[]): void {
    let badJson = false;
    if (chunks.length > 0) {
      try {
        const parsed: unknown = JSON.parse(chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString());
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) ex.record.body = parsed as Record<string, unknown>;
        else badJson = true;
      } catch {
        badJson = true;
      }
    }
    this.#announce(ex);
    const h = req.headers;

    const o = this.#opts;
    const defaults: Knobs = { latencyMs: o.latencyMs, ttftMs: o.ttftMs, tps: o.tokensPerSecond, tokens: o.tokens };
    const knobs = applyHeaders(defaults, (name) => {
      const raw = h[name];
      return typeof raw === "string" && raw !== "" ? raw : undefined;
    });
    if ("status" in knobs) return sendProblem(ex, knobs);
    let fault: FaultSpec | null = null;
    const faultHeader = h["x-mock-fault"];
    if (typeof faultHeader === "string" && faultHeader !== "") {
      try {
        fault = parseFault(faultHeader);
      } catch (err) {
        return sendJson(ex, 400, errorJson(`Header x-mock-fault: ${(err as Error).message}`, "invalid_request_error", "mock_bad_header"));
      }
    }

    const url = ex.record.path;
    const gemini = isGeminiPath(url);
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const azure = azureRoute(ex.record.method, path, q === -1 ? "" : url.slice(q + 1));
    const route = azure?.route ?? `${ex.record.method} ${path}`;
    const anthropic = isAnthropicRoute(route, h);
    // Gemini checks its own key (x-goog-api-key or ?key=) in its wire module.
    if (!gemini) {
      const key = anthropic ? (typeof h["x-api-key"] === "string" ? h["x-api-key"] : undefined) : keyOf(h);
      if (!anthropic && key !== undefined && o.quotaKeys.includes(key)) {
        return sendJson(ex, 429, errorJson("You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", "insufficient_quota"));
      }
      if (o.apiKeys !== undefined && (key === undefined || !o.apiKeys.includes(key))) {
        const json = anthropic ? anthropicError("authentication_error", "invalid x-api-key") : errorJson("Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
        return sendJson(ex, 401, json);
      }
    }
    if (azure?.missingVersion) {
      return sendJson(ex, 404, errorJson("Resource not found: the api-version query parameter is missing.", "invalid_request_error", "404"));
    }
    // Azure's dated API names the deployment in the path; it stands in for the model a body leaves out.
    const body =
      azure?.deployment !== undefined && ex.record.body !== null && ex.record.body.model === undefined
        ? { ...ex.record.body, model: azure.deployment }
        : ex.record.body;
    const kind = ROUTES[route];
    let reply: Reply;
    if (anthropic) {
      const header = (name: string) => (typeof h[name] === "string" && h[name] !== "" ? (h[name] as string) : undefined);
      const answer = anthropicAnswer(route, body, badJson, { rid: ex.rid, tokens: knobs.tokens, models: o.models, header });
      if ("status" in answer) return sendJson(ex, answer.status, answer.json);
      reply = answer;
    } else if (gemini) {
      const header = (name: string) => (typeof h[name] === "string" ? (h[name] as string) : undefined);
      const answer = geminiAnswer({ method: ex.record.method, url, body, badJson, header, apiKey: o.apiKeys?.[0], models: o.models, tokens: knobs.tokens, rid: ex.rid });
      if (!("reply" in answer)) return sendJson(ex, answer.status, answer.json, answer.headers);
      reply = answer.reply;
    } else if (route === "POST /v1/responses") {
      if (badJson || body === null) return sendJson(ex, 400, errorJson("We could not parse the JSON body of your request.", "invalid_request_error", "invalid_json"));
      const answer = responsesReply(body, ex.rid, Math.floor(this.#clock.now() / 1000), knobs.tokens);
      if ("status" in answer) return sendJson(ex, answer.status, answer.json);
      reply = answer;
    } else if (route === "GET /v1/models") {
      reply = { stream: false, json: this.#modelsJson, tokenCount: 0 };
    } else if (kind === undefined) {
      return sendJson(ex, 404, errorJson(`Unknown request URL: ${route}.`, "invalid_request_error", "unknown_url"));
    } else if (badJson || body === null) {
      return sendJson(ex, 400, errorJson("We could not parse the JSON body of your request.", "invalid_request_error", "invalid_json"));
    } else {
      const problem = checkBody(kind, body);
      if (problem !== undefined) return sendProblem(ex, problem);
      const header = (name: string) => (typeof h[name] === "string" && h[name] !== "" ? (h[name] as string) : undefined);
      const answer =
        kind === "embeddings"
          ? { stream: false as const, json: JSON.stringify(wire.embeddings(body, { model: modelOf(body) })), tokenCount: 0 }
          : this.#completion(ex, body, kind === "chat", knobs.tokens, header);
      if ("status" in answer) return sendProblem(ex, answer);
      reply = answer;
    }

    if (fault === null && this.#fault !== null) {
      fault = this.#fault;
      if (--this.#faultLeft <= 0) this.#fault = null;
    }
    later(ex, knobs.latencyMs, () => {
      if (fault === null || fault.kind === "none") sendReply(ex, reply, { ttftMs: knobs.ttftMs, tps: knobs.tps });
      else (gemini ? sendGeminiFault : sendFault)(ex, fault, reply);
    });
  }

  #completion(ex: Exchange, body: Record<string, unknown>, chat: boolean, count: number, header: (name: string) => string | undefined): Reply | Problem {
    const meta = { id: (chat ? "chatcmpl-" : "cmpl-") + ex.rid, created: Math.floor(this.#clock.now() / 1000), model: modelOf(body) };
    if (!chat) {
      const tokens = wire.replyTokens(body, count);
      if (body.stream === true) return { stream: true, events: wire.textCompletionEvents(body, tokens, meta), tokenStart: 0, tokenCount: tokens.length };
      return { stream: false, json: JSON.stringify(wire.textCompletion(body, tokens, meta)), tokenCount: tokens.length };
    }
    // Tool calls and reasoning (openai-tools.ts), or the mock's own text.
    const plan = chatPlan(body, header, ex.rid, () => wire.replyTokens(body, count));
    if ("status" in plan) return plan;
    const extras = { reasoning: plan.reasoning, toolCalls: plan.toolCalls };
    if (body.stream === true) {
      const { events, paced } = wire.chatStream(body, plan.tokens, meta, extras);
      return { stream: true, events, tokenStart: 1, tokenCount: paced };
    }
    const json = JSON.stringify(wire.chatCompletion(body, plan.tokens, meta, extras));
    return { stream: false, json, tokenCount: Math.max(plan.tokens.length, plan.reasoning.length + plan.toolCalls.length) };
  }

}

/** The key a request carries on an OpenAI route, as a bearer token or in Azure's `api-key` header. */
function keyOf(h: IncomingHttpHeaders): string | undefined {
  const auth = h.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice("Bearer ".length);
  const azure = h["api-key"];
  return typeof azure === "string" ? azure : undefined;
}

function sendProblem(ex: Exchange, p: Problem): void {
  sendJson(ex, p.status, errorJson(p.message, "invalid_request_error", p.code, p.param));
}

function modelOf(body: Record<string, unknown>): string {
  return typeof body.model === "string" && body.model !== "" ? body.model : "mock-model";
}

export async function startMockUpstream(options: MockOptions = {}): Promise<MockUpstream> {
  return new MockUpstream(options).listen();
}
