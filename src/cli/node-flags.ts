/**
 * V8 flags the gateway's process is started with (`npm start`, the
 * `switchyard` launcher, the benchmark). They must be given to `node` itself:
 * V8 sizes its heap when the process starts.
 *
 * `--max-semi-space-size=8` caps the young generation at 16 MB. Left alone, V8
 * grows it to 128 MB on a machine with plenty of memory, and a gateway holding
 * thousands of idle streams keeps that much resident for little gain: 5,000
 * open streams took about 360 MB of RSS instead of about 265 MB, with no
 * measurable change in requests per second (smaller caps start to cost
 * throughput). Override with NODE_OPTIONS, which comes later and wins.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
