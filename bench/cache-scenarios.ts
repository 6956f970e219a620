/**
 * What the response cache costs and saves. A hit is measured as the latency
 * of the whole answer over one connection, and as a replayed 20-chunk
 * stream, against the plain gateway going upstream for it. The miss path is measured as throughput over 64
 * connections with the cache on and every request sent `Cache-Control:
 * no-cache` (so each one is hashed, fetched, recorded and stored again) and
 * coalescing off (the load's identical concurrent requests would otherwise
 * share calls), against the same load with the cache off.
 */
import { KB } from "./bodies.ts";
import type { Driver } from "./load.ts";
import type { Options } from "./options.ts";
import type { Scenario } from "./scenarios.ts";
import { closedLoop, streaming } from "./scenarios.ts";

const CACHE = { enabled: true, ttl: "1h" };
/** The load repeats a few bodies over 64 connections: coalescing would merge them, which measures savings, not the miss path's cost. */
const CACHE_NO_COALESCING = { ...CACHE, coalesce: false };

export const CACHE_TARGETS: Array<{ id: string; label: string; cache: { settings: Record<string, unknown>; headers: Record<string, string> } }> = [
  { id: "switchyard-cache-hit", label: "Switchyard, cache on (hits)", cache: { settings: CACHE, headers: {} } },
  { id: "switchyard-cache-miss", label: "Switchyard, cache on, every request a miss (Cache-Control: no-cache)", cache: { settings: CACHE_NO_COALESCING, headers: { "cache-control": "no-cache" } } },
];

export function cacheScenarios(o: Options, driver: Driver): Scenario[] {
  const hit = closedLoop(
    o,
    driver,
    "cache-hit-c1",
    "Cache hit, 1 connection",
    "Non-streaming 1 KB requests, one connection, back to back: the plain gateway asks the upstream each time; the cached one answers the whole answer from its cache (the first request fills it).",
    KB,
    1,
    false,
    true,
  );
  const miss = closedLoop(
    o,
    driver,
    "cache-miss-c64",
    "Cache on but missing, 64 connections",
    "Non-streaming 1 KB requests over 64 connections: the plain gateway, and one with the cache on where every request is a miss (Cache-Control: no-cache), so each is keyed, fetched, recorded and stored.",
    KB,
    64,
    false,
    o.warmEvery,
  );
  const stream = streaming(o, "s20", 20, o.streamConcurrency);
  return [
    { ...hit, onlyTargets: ["switchyard", "switchyard-cache-hit"] },
    {
      ...stream,
      id: "cache-hit-stream-20",
      title: "Cache hit, 20-chunk stream",
      describe: `${o.streamConcurrency} concurrent 20-chunk streams: the plain gateway relays the upstream's (one chunk every 2.5 ms); the cached one replays the stored events at once.`,
      onlyTargets: ["switchyard", "switchyard-cache-hit"],
    },
    { ...miss, onlyTargets: ["switchyard", "switchyard-cache-miss"] },
  ];
}
