import { GatewayError, isGatewayError } from "../../protocol/errors.ts";
import type { KeyRing } from "../../upstream/keys.ts";
import type { AttemptWrapper } from "../attempt-chain.ts";

/**
 * Picks the key of each attempt (`call.keyIndex`) from its provider's ring,
 * in turn. A key the upstream refuses or finds out of quota
 * (SY_ERR_UPSTREAM_AUTH, the provider's fault) is benched and the next key
 * tried at once, before failover moves to another target. When every key
 * tried was refused, the error names the provider, never a key.
 */
export function keyRotation(rings: ReadonlyMap<string, KeyRing>): AttemptWrapper {
  return (next) => async (call) => {
    const provider = call.target.provider.config.name;
    const ring = rings.get(provider);
    if (ring === undefined) return next(call);
    let last: GatewayError | undefined;
    let tried = 0;
    for (const key of ring.order()) {
      if (tried > 0 && call.signal.aborted) break;
      tried++;
      try {
        const committed = await next({ ...call, keyIndex: key });
        ring.served(key);
        return committed;
      } catch (err) {
        if (!isGatewayError(err) || err.code !== "SY_ERR_UPSTREAM_AUTH") throw err;
        ring.refused(key);
        last = err;
      }
    }
    throw refusedAll(provider, last!, tried, ring.size);
  };
}

function refusedAll(provider: string, last: GatewayError, tried: number, size: number): GatewayError {
  const which =
    size === 1 ? "" : tried === size ? `all ${size} keys failed; the last: ` : "every key is benched after failing; the one tried again: ";
  const message = `provider "${provider}": ${which}${last.message}`;
  const err = new GatewayError("SY_ERR_UPSTREAM_AUTH", message, { retryable: true, cause: last });
  if (last.upstream !== undefined) err.upstream = last.upstream;
  return err;
}
