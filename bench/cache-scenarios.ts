/**
 * What the response cache costs and saves. A hit is measured as the latency
 * of the whole answer over one connection, and as a replayed 20-chunk
 * stream, against the plain gateway going upstream for it. The miss path is
 * measured as throughput over 64 connections where every request is unlike
 * any before it (wrk puts a per-run token and a counter in front of the
 * message), with the cache and coalescing on as they come: each request is
 * keyed, looked up and not found, checked against the calls in flight,
 * fetched, recorded and stored, as a real miss is. The plain gateway gets the
 * same unique requests. Measured twice: with the default 256 MB cache, which
 * is still filling (its memory claimed ahead by a background thread when
 * the warm-up stored the first entry: preallocate, the default), and with a
 * 16 MB cache that the warm-up fills, so that each miss also evicts: the
 * steady state of a gateway that has run a while.
 */
import { KB } from "./bodies.ts";
import type { Driver } from "./load.ts";
import type { Options } from "./options.ts";
import type { Scenario } from "./scenarios.ts";
import { closedLoop, streaming } from "./scenarios.ts";

const CACHE = { enabled: true, ttl: "1h" };
/** Small enough that the warm-up (2 s at c=64 of 1 KB requests in a quick run, 5 s in a full one) fills it: about 11,000 entries. */
const FULL_CACHE = { ...CACHE, max_bytes: "16mb" };

/**
 * Seconds of load each target gets before the miss scenario's rounds, at least. The cached targets take
 * part in no other scenario: without it a quick run would measure them a minute after a 2-second start,
 * still being compiled (their one-second rounds climbed from 3,400 to 4,800 requests a second), against
 * a gateway that every scenario before had warmed.
 */
const MISS_WARMUP_S = 5;

export const CACHE_TARGETS: Array<{ id: string; label: string; cache: { settings: Record<string, unknown>; headers: Record<string, string> } }> = [
  { id: "switchyard-cache-hit", label: "Switchyard, cache on (hits)", cache: { settings: CACHE, headers: {} } },
  { id: "switchyard-cache-miss", label: "Switchyard, cache and coalescing on, every request a miss (unique requests)", cache: { settings: CACHE, headers: {} } },
  { id: "switchyard-cache-full", label: "Switchyard, a 16 MB cache full from the warm-up, every request a miss that evicts", cache: { settings: FULL_CACHE, headers: {} } },
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
  // Unique bodies: nothing is found in the cache or in flight, and every answer is stored.
  const unique: Driver = { ...driver, run: (ctx, spec) => driver.run(ctx, { ...spec, unique: true }) };
  const miss = closedLoop(
    // `--warmup 0` still means none.
    { ...o, warmupS: o.warmupS === 0 ? 0 : Math.max(o.warmupS, MISS_WARMUP_S) },
    unique,
    "cache-miss-c64",
    "Cache on but missing, 64 connections",
    "Non-streaming 1 KB requests over 64 connections, each unlike any before it: the plain gateway; one with the cache and coalescing on where every request is a miss, so each is keyed, looked up, fetched, recorded and stored while its 256 MB cache fills (its memory claimed ahead, the default); and one whose 16 MB cache is full, so each miss also evicts.",
    KB,
    64,
    false,
    // Warmed even in a quick run (which warms only before the first scenario of each kind; see MISS_WARMUP_S).
    true,
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
    { ...miss, onlyTargets: ["switchyard", "switchyard-cache-miss", "switchyard-cache-full"] },
  ];
}
