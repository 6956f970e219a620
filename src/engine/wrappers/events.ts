import { isGatewayError } from "../../protocol/errors.ts";
import { type AttemptEnd, channels } from "../../telemetry/channels.ts";
import type { AttemptWrapper } from "../attempt-chain.ts";

/** Publishes each attempt's start and end (see telemetry/channels.ts); with no subscriber, it only checks. */
export function attemptEvents(gateway: object, now: () => number): AttemptWrapper {
  const { attemptStart, attemptEnd } = channels;
  return (next) => async (call) => {
    const target = call.target.label;
    const provider = call.target.provider.config.name;
    const started = now();
    if (attemptStart.hasSubscribers) attemptStart.publish({ gateway, requestId: call.requestId, target, provider });
    try {
      const committed = await next(call);
      if (attemptEnd.hasSubscribers) {
        const end: AttemptEnd = { gateway, requestId: call.requestId, target, provider, status: committed.status, streaming: call.stream, durationMs: now() - started };
        attemptEnd.publish(end);
      }
      return committed;
    } catch (err) {
      if (attemptEnd.hasSubscribers) {
        const e = isGatewayError(err) ? err : undefined;
        const end: AttemptEnd = {
          gateway,
          requestId: call.requestId,
          target,
          provider,
          status: e?.status,
          error: { code: e?.code ?? "SY_ERR_INTERNAL", message: e?.message ?? String(err), retryable: e?.retryable ?? false },
          streaming: false,
          durationMs: now() - started,
        };
        attemptEnd.publish(end);
      }
      throw err;
    }
  };
}
