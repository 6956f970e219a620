/**
 * Warm-up right after start: every target gets a burst of non-streaming load
 * at c=64 and a little streaming, so that the JIT has settled before the first
 * scenario measures anything (a just-started Node server is several times
 * slower in its first seconds). A cached gateway's requests are unique, so
 * that its misses are warmed and a small cache (switchyard-cache-full) is full
 * before anything is measured.
 */
import { chatBody, KB } from "./bodies.ts";
import type { Context } from "./context.ts";
import type { Driver } from "./load.ts";
import type { StreamResult, StreamSpec } from "./streams.ts";
import type { Target } from "./targets.ts";
import { runWorker } from "./worker-io.ts";

export async function warmUp(ctx: Context, driver: Driver, t: Target, seconds: number): Promise<void> {
  const bodies = t.models("plain").map((m) => chatBody(m, false, KB));
  // A cached gateway gets unique requests (wrk only): its miss path is what the scenarios after this measure first.
  const unique = t.cached === true && driver.name === "wrk";
  await driver.run(ctx, { url: t.url("plain"), bodies, headers: t.headers("plain"), connections: 64, durationS: seconds, unique });
  if (!t.flavours.includes("s20")) return;
  const spec: StreamSpec = {
    url: t.url("s20"),
    headers: t.headers("s20"),
    bodies: [chatBody(t.models("s20")[0], true, KB)],
    concurrency: 16,
    warmupS: 0,
    durationS: 1,
  };
  await runWorker<StreamResult>(ctx, "streams.ts", spec, 60_000);
}
