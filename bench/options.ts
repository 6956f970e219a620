/** Command-line flags of `npm run bench` and the quick/full presets. */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

export interface Options {
  quick: boolean;
  rounds: number;
  /** Seconds per measured run of the closed-loop and streaming scenarios. */
  durationS: number;
  /** Seconds of warm-up per target before a scenario's rounds (0 = none). */
  warmupS: number;
  /** Warm up before every scenario (full) or only the first of each kind (quick). */
  warmEvery: boolean;
  /** Seconds of c=64 load on every target right after start. */
  startWarmupS: number;
  /** Seconds the stream and rate clients run uncounted before measuring. */
  clientWarmupS: number;
  targets: string[] | undefined;
  scenarios: string[] | undefined;
  workers: number[];
  /** Requests per second of the fixed-rate scenario. */
  rate: number;
  streamConcurrency: number;
  openCounts: number[];
  openRounds: number;
  holdS: number;
  holdTps: number;
  profile: boolean;
  profileS: number;
  load: "wrk" | "autocannon" | undefined;
  loadCpus: string | undefined;
  sutCpus: string | undefined;
  nofile: number;
  outDir: string | undefined;
  chart: string | undefined;
  keepTmp: boolean;
  /** `--paired a,b`: only these two targets, side by side on one CPU (bench/paired.ts), instead of the scenarios. */
  paired: [string, string] | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick                 about a minute and a half: fewer, shorter rounds, 1,000 open streams only
  --rounds N              rounds per scenario (default 5, quick 3)
  --duration S            seconds per measured run (default 5, quick 1)
  --warmup S              warm-up seconds per target and scenario (default 2, quick 1; cache-miss at least 5; 0: none)
  --targets a,b           direct,nginx,switchyard,switchyard-5k,switchyard-bare,switchyard-guarded,switchyard-guarded-all,switchyard-cache-hit,switchyard-cache-miss,switchyard-cache-full,portkey (default: all available)
  --scenarios a,b         scenario ids (default: all; see docs/benchmarks.md)
  --workers 1,2           Switchyard worker counts to measure, one target each (default 1)
  --rate N                requests/s of the fixed-rate scenario (default 1000)
  --streams N             concurrent 20-chunk streams (default 16; the 200-chunk scenario uses half)
  --open 1000,5000        open-stream counts (default 1000,5000; quick 1000)
  --hold S                seconds to hold the open streams (default 5, quick 1.5)
  --hold-tps N            chunks per second on each held stream (default 2)
  --profile / --no-profile  CPU-profile Switchyard under load at the end (default on, quick off)
  --load wrk|autocannon   closed-loop load generator (default wrk when installed)
  --load-cpus LIST        taskset CPUs for load clients and mocks (default 0)
  --sut-cpus LIST         taskset CPUs for the server under test (default 1)
  --nofile N              open-file limit asked for children (default 65536, else the hard limit)
  --out DIR               results directory (default bench/results)
  --chart FILE            SVG chart path (default docs/benchmarks-chart.svg; quick: next to the results)
  --keep-tmp              keep the temp dir (configs, nginx prefix, profiles)
  --paired a,b            instead of the scenarios: two Switchyard targets on the same CPU at once, each with
                          its own load of unique 1 KB requests; prints b's requests per CPU-second as a
                          fraction of a's, round by round and as a median (uses --rounds and --duration)
`;

function list(text: string | undefined): string[] | undefined {
  return text?.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function numbers(flag: string, text: string | undefined, fallback: number[]): number[] {
  const items = list(text);
  if (items === undefined) return fallback;
  return items.map((s) => positive(flag, s));
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag}: expected a positive number, got '${text}'`);
  return n;
}

function num(flag: string, text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : positive(flag, text);
}

export function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      targets: { type: "string" },
      scenarios: { type: "string" },
      workers: { type: "string" },
      rate: { type: "string" },
      streams: { type: "string" },
      open: { type: "string" },
      hold: { type: "string" },
      "hold-tps": { type: "string" },
      profile: { type: "boolean" },
      "no-profile": { type: "boolean" },
      load: { type: "string" },
      "load-cpus": { type: "string" },
      "sut-cpus": { type: "string" },
      nofile: { type: "string" },
      out: { type: "string" },
      chart: { type: "string" },
      "keep-tmp": { type: "boolean", default: false },
      paired: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  const quick = values.quick === true;
  if (values.load !== undefined && values.load !== "wrk" && values.load !== "autocannon") {
    throw new Error(`--load: expected wrk or autocannon, got '${values.load}'`);
  }
  const pin = availableParallelism() >= 2;
  const paired = list(values.paired);
  if (paired !== undefined && (paired.length !== 2 || paired[0] === paired[1])) throw new Error(`--paired: expected two different target ids, got '${values.paired}'`);
  return {
    quick,
    rounds: Math.round(num("rounds", values.rounds, quick ? 3 : 5)),
    durationS: Math.max(1, Math.round(num("duration", values.duration, quick ? 1 : 5))),
    warmupS: values.warmup === "0" ? 0 : Math.round(num("warmup", values.warmup, quick ? 1 : 2)),
    warmEvery: !quick,
    clientWarmupS: quick ? 0.5 : 1,
    startWarmupS: quick ? 2 : 5,
    targets: paired ?? list(values.targets),
    scenarios: list(values.scenarios),
    workers: numbers("workers", values.workers, [1]).map(Math.round),
    rate: num("rate", values.rate, 1000),
    streamConcurrency: Math.round(num("streams", values.streams, 16)),
    openCounts: numbers("open", values.open, quick ? [1000] : [1000, 5000]).map(Math.round),
    openRounds: quick ? 1 : 2,
    holdS: num("hold", values.hold, quick ? 1.5 : 5),
    holdTps: num("hold-tps", values["hold-tps"], 2),
    profile: values["no-profile"] === true ? false : (values.profile ?? !quick),
    profileS: quick ? 3 : 10,
    load: values.load as Options["load"],
    loadCpus: values["load-cpus"] ?? (pin ? "0" : undefined),
    sutCpus: values["sut-cpus"] ?? (pin ? "1" : undefined),
    nofile: Math.round(num("nofile", values.nofile, 65536)),
    outDir: values.out,
    chart: values.chart,
    keepTmp: values["keep-tmp"] === true,
    paired: paired as [string, string] | undefined,
  };
}
