/**
 * The mock upstreams the benchmark starts: one process per reply shape, so
 * every target (direct, nginx, gateways) gets byte-for-byte the same replies
 * without relying on per-request headers.
 */

export type Flavour = "plain" | "s20" | "s200" | "hold";

export interface FlavourSpec {
  /** Flags for `switchyard mock`. */
  args: string[];
  describe: string;
}

/** Token rate of the streaming mocks: one chunk every 2.5 ms. */
export const STREAM_TPS = 400;

export function flavourSpecs(holdTps: number): Record<Flavour, FlavourSpec> {
  return {
    plain: { args: ["--tokens", "12"], describe: "non-streaming reply of 12 tokens" },
    s20: { args: ["--tokens", "20", "--tps", String(STREAM_TPS)], describe: `20-token stream, one chunk every ${1000 / STREAM_TPS} ms` },
    s200: { args: ["--tokens", "200", "--tps", String(STREAM_TPS)], describe: `200-token stream, one chunk every ${1000 / STREAM_TPS} ms` },
    // Long enough to outlast any ramp + hold; the client closes the streams.
    hold: { args: ["--tokens", String(Math.ceil(holdTps * 120)), "--tps", String(holdTps)], describe: `long stream, ${holdTps} chunk(s) a second` },
  };
}

export const FLAVOURS: readonly Flavour[] = ["plain", "s20", "s200", "hold"];
