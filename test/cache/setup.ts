/** A gateway with the cache on, in front of the mock upstream, on an injected clock. */
import { startMockUpstream, type MockOptions, type MockUpstream } from "../../src/mock/index.ts";
import type { EngineOptions } from "../../src/engine/gateway.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

export interface CachedSetup {
  gw: TestGateway;
  mock: MockUpstream;
  clock: FakeClock;
  close(): Promise<void>;
}

export async function startCached(
  cache: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  mockOptions: MockOptions = {},
  engineOptions: EngineOptions & { clock?: FakeClock } = {},
): Promise<CachedSetup> {
  const mock = await startMockUpstream({ tokens: 5, tokensPerSecond: 0, ...mockOptions });
  const clock = engineOptions.clock ?? new FakeClock();
  const { models, ...rest } = extra;
  const gw = await startGateway(
    {
      providers: { up: { type: "openai", base_url: mock.url } },
      models: { m: { targets: ["up/x"], retry: { attempts: 1 } }, ...(models as Record<string, unknown> | undefined) },
      // Memory claimed ahead is its own test's concern (memory-claim.test.ts); here it would claim 256 MB per gateway.
      cache: { preallocate: false, ...cache },
      ...rest,
    },
    { random: Math.random, ...engineOptions, clock },
  );
  return {
    gw,
    mock,
    clock,
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}

/** Upstream calls the mock received on a path. */
export function calls(mock: MockUpstream, path = "/v1/chat/completions"): number {
  return mock.requests.filter((r) => r.path === path).length;
}

/** Waits for a condition that other tasks make true (a request reaching the gateway), checking between turns of the event loop. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise<void>((resolve) => setImmediate(resolve));
}
