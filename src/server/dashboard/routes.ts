/**
 * The built-in dashboard: `GET /` (or `/dashboard`), its script and style,
 * `/dashboard/state` (providers and targets with their breakers, read without
 * probing anyone, and /v1/metrics' report when metrics are on) and
 * `/dashboard/events` (the live tail, events.ts).
 *
 * Every route passes the operator's guard (admin-auth.ts): the admin key when
 * one is set, which a browser sends as a Basic login's password and then
 * reuses for the page's own fetches and events.
 *
 * The recent-requests ring exists from the first view on, not before: a
 * gateway whose dashboard is never opened has no subscriber on its events.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Engine } from "../../engine/gateway.ts";
import { metricsReport } from "../../telemetry/metrics-json.ts";
import { RecentRequests } from "../../telemetry/recent-requests.ts";
import { type Clock, systemClock } from "../../time/clock.ts";
import type { Guard } from "../admin-auth.ts";
import { statsView } from "../metrics-routes.ts";
import { json } from "../respond.ts";
import { type Asset, loadAssets } from "./assets.ts";
import { EventStreams } from "./events.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
/** http.ts's route table: `open` routes skip the gateway-key check (the guard here does the checking). */
type AddRoute = (path: string, methods: Record<string, Handler>, open: boolean) => void;

export interface DashboardOptions {
  /** The event streams' ticker (heartbeats, the check for a shutdown): real time by default, whatever the engine's clock. */
  clock?: Clock;
  /** How many requests the live tail holds. */
  capacity?: number;
}

function sendAsset(res: ServerResponse, asset: Asset): void {
  res.writeHead(200, asset.headers);
  res.end(asset.body);
}

export function addDashboard(add: AddRoute, server: Server, engine: Engine, guard: Guard | undefined, options: DashboardOptions = {}): void {
  const assets = loadAssets();
  const ticker = options.clock ?? systemClock;
  /** The tail's times and the state's `now` are the engine's, as are the metrics'. */
  const clock = engine.clock;
  let streams: EventStreams | undefined;
  /** Created on the first view; stops listening when the server closes. */
  const live = (): EventStreams => {
    if (streams !== undefined) return streams;
    const recent = new RecentRequests(options.capacity, () => clock.now());
    const unobserve = recent.observe(engine);
    streams = new EventStreams(recent, { clock: ticker, stopping: () => !server.listening });
    const created = streams;
    server.once("close", () => {
      unobserve();
      created.closeAll();
    });
    return streams;
  };
  const guarded = (fn: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Handler => async (req, res) => {
    guard?.(req, res);
    await fn(req, res);
  };

  const page = guarded((_req, res) => {
    live();
    sendAsset(res, assets.page);
  });
  add("/", { GET: page }, true);
  add("/dashboard", { GET: page }, true);
  add("/dashboard/app.js", { GET: guarded((_req, res) => sendAsset(res, assets.script)) }, true);
  add("/dashboard/app.css", { GET: guarded((_req, res) => sendAsset(res, assets.style)) }, true);
  add(
    "/dashboard/state",
    {
      GET: guarded(async (_req, res) => {
        const { providers, targets } = await engine.upstreamHealth({ probe: false });
        const state: Record<string, unknown> = { now: clock.now(), providers, targets, queue: engine.limits?.serverQueue() };
        // /v1/metrics' report, from the same breaker reading: one request, under this guard, and no probe.
        // Every worker's figures, merged through the main thread, as /v1/metrics reports them.
        const stats = await statsView(engine);
        if (stats !== undefined) {
          const breakers = new Map(Object.entries(targets).flatMap(([label, t]) => (t.breaker === undefined ? [] : [[label, t.breaker.state] as const])));
          state.metrics = metricsReport(stats, breakers);
        }
        json(res, 200, state);
      }),
    },
    true,
  );
  add(
    "/dashboard/events",
    {
      GET: guarded((req, res) => {
        if (req.method === "HEAD") {
          res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" });
          res.end();
          return;
        }
        live().serve(req, res);
      }),
    },
    true,
  );
}
