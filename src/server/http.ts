import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GatewayKey, ServerConfig } from "../config/types.ts";
import type { Engine } from "../engine/gateway.ts";
import { anthropic } from "../codecs/anthropic/index.ts";
import { checkModelName, validateRequest } from "../engine/validate.ts";
import { countRequestTokens } from "../limits/tokens.ts";
import { GatewayError } from "../protocol/errors.ts";
import type { Operation } from "../providers/types.ts";
import type { TraceHeaders } from "../telemetry/channels.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import type { AdminControl } from "./admin-control.ts";
import { adminRoutes } from "./admin-routes.ts";
import { type Authenticate, authenticator } from "./auth.ts";
import { parseJson, readBody, requireJson } from "./body.ts";
import { ClientController } from "../protocol/client-controller.ts";
import { answerClientError } from "./client-errors.ts";
import { addDashboard } from "./dashboard/routes.ts";
import { corsFor } from "./cors.ts";
import { adminGuard, operatorGuard } from "./admin-auth.ts";
import { cacheRoutes } from "./cache-routes.ts";
import type { RequestContext } from "../engine/types.ts";
import { fail, json, sendBody, sendResult, toGatewayError } from "./respond.ts";
import { anthropicShape } from "./anthropic-shape.ts";
import { addMetricsRoutes } from "./metrics-routes.ts";
import { type ErrorShape, openaiShape, responsesShape } from "./shapes.ts";

/** `controller` aborts, with SY_ERR_CLIENT_ABORT, when the client leaves before the response is done. */
type Handler = (req: IncomingMessage, res: ServerResponse, requestId: string, controller: AbortController, key?: GatewayKey) => Promise<void>;

interface RouteEntry {
  methods: Record<string, Handler>;
  allow: string;
  /** Served without a gateway key (liveness only). */
  open: boolean;
  /** How this route's client API writes errors. */
  shape: ErrorShape;
  /**
   * Its POST handler is a client API's (api, below), which sends
   * x-request-id with the rest of its head, so none is set ahead. A header
   * set ahead makes Node take every other one through setHeader into a
   * table of its own, which grows with each header the answer adds: about
   * 1 KB and a fifth of a microsecond per request, on the routes every
   * client call takes.
   */
  idInHead: boolean;
}

/** The error shape of each client API; OpenAI's for everything not listed. */
const SHAPES: Partial<Record<Operation, ErrorShape>> = { responses: responsesShape, messages: anthropicShape };

/** What an Anthropic client sends that its own API's upstream should see too. */
function anthropicPassHeaders(req: IncomingMessage): Record<string, string> | undefined {
  const version = req.headers["anthropic-version"];
  const beta = req.headers["anthropic-beta"];
  if (version === undefined && beta === undefined) return undefined;
  const out: Record<string, string> = {};
  if (typeof version === "string") out["anthropic-version"] = version;
  if (typeof beta === "string") out["anthropic-beta"] = beta;
  return out;
}

/** The client's W3C trace context; only read while tracing is on. A malformed one is dropped by the tracer, which then starts a new trace. */
function clientTrace(req: IncomingMessage): TraceHeaders | undefined {
  const traceparent = req.headers.traceparent;
  if (typeof traceparent !== "string") return undefined;
  const tracestate = req.headers.tracestate;
  return typeof tracestate === "string" ? { traceparent, tracestate } : { traceparent };
}

/** The model list in Anthropic's format (`GET /v1/models` with `anthropic-version`). */
function anthropicModelList(names: string[]) {
  const data = names.map((id) => ({ type: "model", id, display_name: id, created_at: "1970-01-01T00:00:00Z" }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/** What the cache reads of a request: the client's directives and, for `cache.scope: key`, whose key it was. */
function cacheContext(ctx: RequestContext, req: IncomingMessage, key: GatewayKey | undefined): void {
  const control = req.headers["cache-control"];
  const ttl = req.headers["x-switchyard-cache-ttl"];
  if (typeof control === "string") ctx.cacheControl = control;
  if (typeof ttl === "string") ctx.cacheTtl = ttl;
  // The key itself, not its name (names follow positions when unset): it only ever goes into the key's hash.
  if (key !== undefined) ctx.tenant = key.key;
}


const MODEL_PATH = /^(\/v1)?\/models\/./;
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Client text quoted in an error message is cut short. */
const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/**
 * Node's own limits on slow and idle clients, from `server.timeouts`. The
 * request timeout covers headers and body together; it stops counting once
 * the request has arrived, so a long streamed answer is not cut by it.
 * Node checks these on an interval (30 s by default): checking more often
 * makes a 10 s limit mean about 10 s.
 */
function serverOptions(s: ServerConfig) {
  const { headers, body, keepAlive } = s.timeouts;
  const shortest = Math.min(...[headers, body].filter((t) => t > 0), 30_000);
  return {
    headersTimeout: headers,
    requestTimeout: headers > 0 && body > 0 ? headers + body : 0,
    keepAliveTimeout: keepAlive,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(shortest / 4))),
  };
}

/**
 * The log line of a request answered with an error before the engine took
 * it: at info for the client's mistakes, at warn for the gateway's own.
 * Never the body, the query or a header: only the method, the path (cut
 * short) and the error.
 */
function logRejected(logger: Logger, req: IncomingMessage | undefined, requestId: string, e: GatewayError): void {
  const level = e.status >= 500 ? "warn" : "info";
  if (logger.isLevelEnabled?.(level) === false) return;
  const path = req?.url === undefined ? undefined : clip(req.url.split("?", 1)[0]);
  logger[level]({ reqId: requestId, method: req?.method, path, status: e.status, code: e.code }, e.message);
}

/**
 * The HTTP front: a thin layer that turns requests into engine calls and
 * engine results (or errors) into OpenAI-shaped responses.
 */
export function createHttpServer(engine: Engine, logger: Logger = silentLogger, admin?: AdminControl): Server {
  const settings = engine.config.server;
  const adminApi = adminRoutes(engine, logger, admin);
  const maxBody = settings.maxBody;
  const compression = settings.compression;
  const cors = corsFor(settings.cors);
  const authenticate: Authenticate | undefined = authenticator(settings.auth);
  /** The configured names and the upstreams' own models, from the engine's cache (upstream/model-list.ts), in either API's format. */
  const modelsBody = async (anthropicClient: boolean) => {
    const models = await engine.models();
    if (anthropicClient) return Buffer.from(JSON.stringify(anthropicModelList(models.map((m) => m.id))));
    const data = models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.ownedBy }));
    return Buffer.from(JSON.stringify({ object: "list", data }));
  };
  const startedAt = Date.now();

  /** POST /v1/messages/count_tokens: a real token count of a Messages request (see limits/tokens.ts). */
  const countTokens: Handler = async (req, res) => {
    requireJson(req);
    const body = parseJson(await readBody(req, maxBody));
    validateRequest("messages", body);
    engine.routes.resolve(body.model as string);
    const internal = anthropic.decodeRequest(body);
    json(res, 200, { input_tokens: await countRequestTokens(internal) });
  };

  const cached = engine.cache !== undefined;
  const scoped = engine.cache?.settings.scope === "key";
  /** A request's parsed body; with the cache on, its bytes go on the context too (the cache confirms lookups against them). */
  const parsed = (body: Buffer, ctx: RequestContext): unknown => {
    if (cached) ctx.raw = body;
    return parseJson(body);
  };
  /** The client APIs' handlers (api): each sends the request's id with its head (RouteEntry.idInHead). */
  const idInHead = new WeakSet<Handler>();
  const api = (op: Operation): Handler => {
    const handler: Handler = async (req, res, requestId, controller, key) => {
      requireJson(req);
      const passHeaders = op === "messages" ? anthropicPassHeaders(req) : undefined;
      const ctx: RequestContext = { requestId, controller, passHeaders };
      if (cached) cacheContext(ctx, req, scoped ? key : undefined);
      // While tracing is off, no header is looked at.
      if (engine.tracing !== undefined) ctx.trace = clientTrace(req);
      // Read and parsed inside the call, so that no local holds the body for a stream's whole life.
      let result;
      try {
        result = await engine.handle(op, parsed(await readBody(req, maxBody), ctx), ctx);
      } catch (err) {
        // A failed answer still says how the cache took part, when it did (the error goes on to be written).
        // No .catch() on the hot path: a try costs nothing until something throws.
        if (ctx.cacheStatus !== undefined && !res.headersSent) res.setHeader("x-switchyard-cache", ctx.cacheStatus);
        throw err;
      }
      await sendResult(req, res, result, compression, SHAPES[op] ?? openaiShape, requestId);
    };
    idInHead.add(handler);
    return handler;
  };

  const routes = new Map<string, RouteEntry>();
  const add = (path: string, methods: Record<string, Handler>, open = false, shape = openaiShape) => {
    // HEAD is GET without the body (Node leaves the body out of HEAD answers).
    if (methods.GET !== undefined) methods = { ...methods, HEAD: methods.GET };
    const inHead = methods.POST !== undefined && idInHead.has(methods.POST);
    routes.set(path, { methods, allow: [...Object.keys(methods), "OPTIONS"].join(", "), open, shape, idInHead: inHead });
  };
  for (const prefix of ["/v1", ""]) {
    add(`${prefix}/chat/completions`, { POST: api("chat") });
    add(`${prefix}/completions`, { POST: api("completions") });
    add(`${prefix}/embeddings`, { POST: api("embeddings") });
    add(`${prefix}/responses`, { POST: api("responses") }, false, responsesShape);
    add(`${prefix}/messages`, { POST: api("messages") }, false, anthropicShape);
    add(`${prefix}/messages/count_tokens`, { POST: countTokens }, false, anthropicShape);
    add(`${prefix}/models`, {
      // Anthropic's clients name their API version on every call: they get Anthropic's list format.
      GET: async (req, res) =>
        sendBody(req, res, 200, { "content-type": "application/json" }, await modelsBody(req.headers["anthropic-version"] !== undefined), compression),
    });
  }
  /** GET /v1/models/{id}: the SDK's models.retrieve. Ids may hold slashes ("provider/model"), sent encoded or not. */
  const retrieveModel: Handler = async (req, res) => {
    const path = req.url!.split("?", 1)[0];
    const encoded = path.slice(path.indexOf("/models/") + "/models/".length);
    let id: string;
    try {
      id = decodeURIComponent(encoded);
    } catch {
      throw new GatewayError("SY_ERR_BAD_REQUEST", "model id in the path is not valid percent-encoding", { param: "model" });
    }
    checkModelName(id);
    const model = engine.routes.describe(id);
    json(res, 200, { id: model.id, object: "model", created: 0, owned_by: model.ownedBy });
  };
  const modelRoute: RouteEntry = { methods: { GET: retrieveModel, HEAD: retrieveModel }, allow: "GET, HEAD", open: false, shape: openaiShape, idInHead: false };
  const cacheApi = cacheRoutes(engine, adminGuard(settings), operatorGuard(settings, authenticate));
  // Left open by the router: the operator's guard decides (admin key when set, else a gateway key).
  add("/v1/cache/stats", { GET: cacheApi.stats }, true);
  // Behind the admin key, not the gateway keys: the handler checks it.
  add("/admin/cache", { DELETE: cacheApi.purge }, true);
  add(
    "/health",
    {
      GET: async (_req, res) =>
        // While shutting down: 503, so that a load balancer stops sending.
        engine.draining
          ? json(res, 503, { status: "draining" })
          : json(res, 200, { status: "ok", uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
    },
    true,
  );
  add("/health/upstream", {
    GET: async (_req, res) => {
      const { providers, targets } = await engine.upstreamHealth();
      // A disabled provider is neither up nor down; an ejected one (breaker open) is down.
      const all = Object.values(providers).filter((p) => p.disabled !== true);
      const up = all.filter((p) => p.reachable && p.breaker?.state !== "open").length;
      const status = up === all.length ? "ok" : up > 0 ? "degraded" : "down";
      json(res, status === "down" ? 503 : 200, { status, providers, targets });
    },
  });

  const stopMetrics = addMetricsRoutes(engine, add);

  /** The last resort: whatever a handler throws ends that request with an answer, never the process. */
  const onError = (res: ServerResponse, requestId: string, shape: ErrorShape = openaiShape, req?: IncomingMessage) => (err: unknown) => {
    const e = toGatewayError(err);
    // A route that sends its id with its head (idInHead) had none set ahead.
    if (!res.headersSent && !res.hasHeader("x-request-id")) res.setHeader("x-request-id", requestId);
    if (e.code === "SY_ERR_INTERNAL") logger.error({ reqId: requestId, err }, "unhandled error");
    // One line per request: those the engine never took (bad input, a wrong key, no such route or model) get theirs here.
    else if (!engine.reported(err)) logRejected(logger, req, requestId, e);
    fail(res, e, shape);
  };

  const server = createServer(serverOptions(settings), (req, res) => {
    const sent = req.headers["x-request-id"];
    const requestId = typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    const url = req.url!;
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const route = routes.get(path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path) ?? (MODEL_PATH.test(path) ? modelRoute : undefined);
    if (route?.idInHead !== true || req.method !== "POST") res.setHeader("x-request-id", requestId);
    let handler: Handler | undefined;
    let key: GatewayKey | undefined;
    cors?.apply(req, res);
    // The admin API (admin-routes.ts) serves the /admin/ paths no other route has claimed.
    if (route === undefined && path.startsWith("/admin/")) return void adminApi(req, res, path);
    try {
      if (route !== undefined && req.method === "OPTIONS") {
        // A browser's preflight carries no credentials: it is answered before the key check.
        if (cors?.preflight(req, res, route.allow)) return;
        res.writeHead(204, { allow: route.allow });
        res.end();
        return;
      }
      if (route === undefined) {
        throw new GatewayError("SY_ERR_NOT_FOUND", `no route for ${req.method} ${clip(path)}`);
      }
      if (!route.open) key = authenticate?.(req.headers);
      if ((handler = route.methods[req.method!]) === undefined) {
        res.setHeader("allow", route.allow);
        throw new GatewayError("SY_ERR_METHOD_NOT_ALLOWED", `method ${req.method} is not allowed on ${clip(path)}; use ${route.allow}`);
      }
    } catch (err) {
      onError(res, requestId, route?.shape, req)(err);
      return;
    }
    const controller = new ClientController();
    res.once("close", () => {
      if (!res.writableFinished) controller.leave(new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the connection"));
      // While stopping, a connection whose response has ended is closed instead of kept alive.
      else if (!server.listening) setImmediate(() => server.closeIdleConnections());
    });
    try {
      handler(req, res, requestId, controller, key).catch(onError(res, requestId, route.shape, req));
    } catch (err) {
      onError(res, requestId, route.shape, req)(err);
    }
  });
  server.once("close", stopMetrics);
  if (settings.dashboard !== false) addDashboard(add, server, engine, operatorGuard(settings, authenticate));
  server.maxConnections = settings.maxConnections;
  server.on("clientError", answerClientError);
  return server;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Closes the server and every connection at once; `shutdown()` (shutdown.ts) is the graceful way. */
  close(): Promise<void>;
}

/** Listens and resolves once the port is bound. `reusePort` lets several workers bind the same port. */
export function listen(server: Server, host: string, port: number, opts: { reusePort?: boolean } = {}): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, reusePort: opts.reusePort === true }, () => {
      server.off("error", reject);
      const addr = server.address() as AddressInfo;
      const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${shownHost}:${addr.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
