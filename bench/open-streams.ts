/**
 * One run of an open-streams scenario: baseline RSS and probe latency with
 * nothing open, then bench/many-streams.ts opens the streams and, only while
 * all of them are open, RSS is sampled and the health endpoint probed.
 */
import { chatBody, KB } from "./bodies.ts";
import type { Context } from "./context.ts";
import type { ManyStreamsResult, ManyStreamsSpec } from "./many-streams.ts";
import { Probe, RssSampler } from "./observe.ts";
import { rssBytes } from "./proc-stats.ts";
import type { RunOutcome } from "./result-types.ts";
import type { Target } from "./targets.ts";
import { runWorker } from "./worker-io.ts";

const MB = 1024 * 1024;

export async function openStreams(ctx: Context, t: Target, o: { count: number; holdS: number }): Promise<RunOutcome> {
  const pid = t.sutPid("hold");
  const rssIdle = rssBytes(pid);
  const probe = new Probe(t.healthUrl, 10);
  let sampler: RssSampler | undefined;
  let held: { peakBytes: number } | undefined;
  let probing: ReturnType<Probe["stop"]> | undefined;
  const spec: ManyStreamsSpec = {
    url: t.url("hold"),
    headers: t.headers("hold"),
    body: chatBody(t.models("hold")[0], true, KB),
    count: o.count,
    batch: 250,
    holdS: o.holdS,
    rampLimitS: 60,
  };
  try {
    const run = await runWorker<ManyStreamsResult>(ctx, "many-streams.ts", spec, (spec.rampLimitS + o.holdS + 60) * 1000, (event) => {
      if (event.event === "open") {
        sampler = new RssSampler(pid, 100);
        probe.start();
      } else if (event.event === "closing" && sampler !== undefined) {
        held = sampler.stop();
        probing = probe.stop();
      }
    });
    const probed = await probing;
    const r = run.result;
    const notes: string[] = [];
    if (r.opened < r.requested) notes.push(`${t.id}: only ${r.opened} of ${r.requested} streams opened (${r.failed} failed)`);
    if (r.dropped > 0) notes.push(`${t.id}: ${r.dropped} streams ended while they should have stayed open`);
    if (probed !== undefined && probed.errors > 0) notes.push(`${t.id}: ${probed.errors} health probes failed`);
    return {
      values: {
        rss_mb: held === undefined ? Number.NaN : held.peakBytes / MB,
        rss_idle_mb: rssIdle / MB,
        probe_p50: probed?.latencyMs.p50 ?? Number.NaN,
        probe_p99: probed?.latencyMs.p99 ?? Number.NaN,
        probe_max: probed?.latencyMs.max ?? Number.NaN,
        opened: r.opened,
        ramp_s: r.rampMs / 1000,
      },
      command: run.command,
      notes,
    };
  } finally {
    sampler?.stop();
    await probe.close();
    // Let the server settle (closed sockets, aborted upstreams) before the next target.
    await new Promise((r) => setTimeout(r, 500));
  }
}
