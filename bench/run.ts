/**
 * `npm run bench [-- --quick]`: starts the mock upstreams, Switchyard, nginx
 * and any peer gateway, runs every scenario in interleaved rounds, and writes
 * bench/results/<date>.json (+ .md) and an SVG chart. See docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { renderChart } from "./chart.ts";
import { BENCH_DIR, REPO_ROOT } from "./context.ts";
import type { Context, Layout } from "./context.ts";
import { checkGoals } from "./goals.ts";
import { guardedSettings } from "./guarded.ts";
import { CACHE_TARGETS } from "./cache-scenarios.ts";
import { pickDriver } from "./load.ts";
import { machineInfo } from "./machine.ts";
import { parseOptions, USAGE } from "./options.ts";
import type { Options } from "./options.ts";
import { runPaired } from "./paired.ts";
import { checkPassthrough } from "./passthrough.ts";
import { installCleanup, pinSelf, registerTempDir, stopAll, tools } from "./procs.ts";
import { profileGateway } from "./profile.ts";
import { markdownReport, textReport } from "./report.ts";
import type { PassthroughCheck, ProfileSummary, ScenarioResult } from "./result-types.ts";
import { runScenario } from "./rounds.ts";
import { buildScenarios } from "./scenarios.ts";
import { warmUp } from "./warmup.ts";
import { directTarget, isSkipped, startGateway, startMocks, startNginx, startPortkey } from "./targets.ts";
import type { Mocks, Skipped, Target } from "./targets.ts";

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function layoutOf(o: Options): Layout {
  if (!tools.taskset || o.loadCpus === undefined || o.sutCpus === undefined) {
    return { loadCpus: undefined, sutCpus: undefined, describe: "not pinned (taskset missing or a single CPU): every process shares every CPU" };
  }
  return {
    loadCpus: o.loadCpus,
    sutCpus: o.sutCpus,
    describe: `CPU ${o.sutCpus}: the server under test (Switchyard, nginx or a peer gateway); CPU ${o.loadCpus}: load generators, mock upstreams and this orchestrator`,
  };
}

async function startTargets(ctx: Context, o: Options, mocks: Mocks): Promise<{ targets: Target[]; skipped: Skipped[] }> {
  const wanted = (id: string) => o.targets === undefined || o.targets.includes(id) || (id.startsWith("switchyard-w") && o.targets.includes("switchyard"));
  const targets: Target[] = [];
  const skipped: Skipped[] = [];
  const add = (t: Target | Skipped) => {
    if (isSkipped(t)) {
      skipped.push(t);
      log(`skipping ${t.id}: ${t.reason}`);
    } else {
      targets.push(t);
      log(`started ${t.id} (${t.label}) in ${t.startupMs.toFixed(0)} ms`);
    }
  };
  if (wanted("direct")) add(directTarget(mocks));
  if (wanted("nginx")) add(await startNginx(ctx, mocks));
  for (const [i, workers] of o.workers.entries()) {
    const id = i === 0 ? "switchyard" : `switchyard-w${workers}`;
    if (wanted(id)) add(await startGateway(ctx, mocks, { id, label: `Switchyard, ${workers} worker${workers === 1 ? "" : "s"}`, workers, extraModels: 0 }));
  }
  if (wanted("switchyard-5k")) {
    add(await startGateway(ctx, mocks, { id: "switchyard-5k", label: "Switchyard, 1,000 models / 5,000 targets", workers: o.workers[0], extraModels: 1000 }));
  }
  if (wanted("switchyard-bare")) {
    add(await startGateway(ctx, mocks, { id: "switchyard-bare", label: "Switchyard, every resilience mechanism off", workers: o.workers[0], extraModels: 0, bare: true }));
  }
  for (const [id, all, label] of [
    ["switchyard-guarded", false, "Switchyard, breakers, health checks and rpm/tpm limits on"],
    ["switchyard-guarded-all", true, "Switchyard, every resilience mechanism on"],
  ] as const) {
    if (!wanted(id)) continue;
    const guarded = guardedSettings(all);
    log(`${id}: resilience settings applied: ${guarded.applied.join(", ") || "none"}`);
    if (guarded.missing.length > 0) log(`${id}: not known to this build's config, so left out: ${guarded.missing.join(", ")}`);
    add(await startGateway(ctx, mocks, { id, label, workers: o.workers[0], extraModels: 0, guarded }));
  }
  for (const t of CACHE_TARGETS) {
    if (wanted(t.id) && o.scenarios?.some((id) => id.startsWith("cache-")) !== false) add(await startGateway(ctx, mocks, { ...t, workers: o.workers[0], extraModels: 0 }));
  }
  if (wanted("portkey")) add(await startPortkey(ctx, mocks));
  return { targets, skipped };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (parsed === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const o = parsed;
  const started = new Date();
  installCleanup(log);
  // Bounded even if something hangs: the exit handler then kills every child.
  setTimeout(() => {
    log("bench: overall time limit reached, giving up");
    process.exit(1);
  }, (o.quick ? 10 : 90) * 60_000).unref();

  const tmp = mkdtempSync(`${tmpdir()}/switchyard-bench-`);
  if (!o.keepTmp) registerTempDir(tmp);
  const layout = layoutOf(o);
  const driver = pickDriver(REPO_ROOT, o.load);
  if ("missing" in driver) {
    log(`bench: ${driver.missing}`);
    return 1;
  }
  // Before pinning: machineInfo counts the CPUs this process may use.
  const machine = machineInfo(driver.name === "autocannon" ? driver.version : null);
  if (layout.loadCpus !== undefined) pinSelf(layout.loadCpus);
  const ctx: Context = { repoRoot: REPO_ROOT, tmp, node: process.execPath, layout, nofile: o.nofile, log };
  log(`bench: ${o.quick ? "quick" : "full"} run on ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}; load: ${driver.version}`);
  log(`layout: ${layout.describe}`);
  if (machine.loadAverageAtStart > 0.5) log(`warning: load average is ${machine.loadAverageAtStart} before the run; other work on this machine will skew the figures`);
  log(`open files: soft ${machine.nofile.soft}, hard ${machine.nofile.hard}; children ask for ${o.nofile} (capped at the hard limit)`);
  if (o.workers.some((w) => w > 1) && layout.sutCpus !== undefined && !layout.sutCpus.includes("-") && !layout.sutCpus.includes(",")) {
    log(`note: multi-worker Switchyard is pinned to CPU ${layout.sutCpus} only; pass --sut-cpus to give it more`);
  }

  const mocks = await startMocks(ctx, o.holdTps);
  const { targets, skipped } = await startTargets(ctx, o, mocks);
  const direct = targets.find((t) => t.kind === "direct");
  let passthrough: PassthroughCheck[] = [];
  if (direct !== undefined) {
    passthrough = await checkPassthrough(
      direct,
      targets.filter((t) => t !== direct),
    ).catch((err: unknown) => {
      log(`passthrough check failed: ${String(err)}`);
      return [];
    });
  }

  log(`\nwarming up every target (${o.startWarmupS} s at c=64, 1 s of streams)…`);
  for (const t of targets) {
    await warmUp(ctx, driver, t, o.startWarmupS).catch((err: unknown) => log(`warm-up of ${t.id} failed: ${String(err).split("\n")[0]}`));
  }

  if (o.paired !== undefined) {
    const [a, b] = o.paired.map((id) => targets.find((t) => t.id === id));
    if (a === undefined || b === undefined) {
      log(`bench: --paired needs two Switchyard targets that started; got ${targets.map((t) => t.id).join(", ") || "none"}`);
      await stopAll();
      return 1;
    }
    await runPaired(ctx, driver, a, b, { rounds: o.rounds, durationS: o.durationS });
    await stopAll();
    return 0;
  }

  const results: ScenarioResult[] = [];
  for (const s of buildScenarios(o, driver)) {
    log(`\n${s.id}: ${s.title}`);
    results.push(await runScenario(ctx, s, targets));
  }

  const profiles: ProfileSummary[] = [];
  if (o.profile && targets.some((t) => t.id === "switchyard")) {
    for (const load of ["throughput", "streams"] as const) {
      log(`\nprofiling Switchyard under ${load === "throughput" ? "c=64 non-streaming load" : "200-chunk streams"} (node --cpu-prof)…`);
      const p = await profileGateway(ctx, mocks, driver, load, o.profileS, o.workers[0]).catch((err: unknown) => {
        log(`profile failed: ${String(err)}`);
        return undefined;
      });
      if (p !== undefined) profiles.push(p);
    }
  }
  await stopAll();

  const goals = checkGoals(results, passthrough, "switchyard", "switchyard-5k", "switchyard-guarded", "switchyard-bare");
  const finished = new Date();
  const name = `${stamp(started)}${o.quick ? "-quick" : ""}`;
  const outDir = o.outDir ?? `${BENCH_DIR}/results`;
  mkdirSync(outDir, { recursive: true });
  const report = { scenarios: results, goals, passthrough, profiles, skipped };
  const json = {
    format: "switchyard-bench/1",
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    loadAverageAtEnd: Math.round(loadavg()[0] * 100) / 100,
    mode: o.quick ? "quick" : "full",
    argv,
    options: o,
    machine,
    layout,
    loadGenerator: driver.version,
    targets: targets.map((t) => ({ id: t.id, label: t.label, kind: t.kind, command: t.command, startupMs: t.startupMs, notes: t.notes })),
    ...report,
  };
  writeFileSync(`${outDir}/${name}.json`, `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(`${outDir}/${name}.md`, markdownReport(report));
  const chartPath = o.chart ?? (o.quick ? `${outDir}/${name}.svg` : `${REPO_ROOT}/docs/benchmarks-chart.svg`);
  const subtitle = `${machine.cpuModel}, ${machine.cores} cores · node ${machine.node} · ${machine.nginx ?? "no nginx"} · ${started.toISOString().slice(0, 16)}Z · ${o.quick ? "quick" : "full"} run`;
  writeFileSync(chartPath, renderChart(results, "Switchyard vs nginx: ratio to nginx (log scale, 1× = nginx)", subtitle));

  process.stdout.write(textReport(report));
  process.stdout.write(`\nresults: ${outDir}/${name}.json (+ .md)\nchart:   ${chartPath}\n`);
  log(`bench: done in ${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Stray handles (timers, pools) must not keep a finished run alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  async (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
