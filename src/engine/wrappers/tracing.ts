import { isGatewayError } from "../../protocol/errors.ts";
import type { Tracing } from "../../telemetry/tracing.ts";
import type { AttemptWrapper } from "../attempt-chain.ts";

/** Errors that carry the status an upstream answered with, rather than one the gateway chose. */
const ANSWERED = new Set(["SY_ERR_UPSTREAM_STATUS", "SY_ERR_UPSTREAM_CLIENT_ERROR"]);

/**
 * A span per upstream attempt (telemetry/tracing.ts), whose W3C trace context
 * goes upstream with the call (`call.traceHeaders`), so the upstream's own
 * spans join the client's trace. In the chain only when tracing is
 * configured; placed beside the attempt events, so each key tried is a span
 * of its own, and outside redaction, so a span never holds an unredacted message.
 */
export function traceAttempts(tracing: Tracing): AttemptWrapper {
  return (next) => async (call) => {
    const { target } = call;
    const span = tracing.startAttempt({
      requestId: call.requestId,
      op: call.op,
      stream: call.stream,
      target: target.label,
      provider: target.provider.config.name,
      providerType: target.provider.config.type,
      model: target.model,
      origin: target.provider.origin,
    });
    let committed;
    try {
      committed = await next({ ...call, traceHeaders: span.headers });
    } catch (err) {
      const e = isGatewayError(err) ? err : undefined;
      span.failed({
        code: e?.code ?? "SY_ERR_INTERNAL",
        message: e?.message ?? "internal error",
        status: e !== undefined && ANSWERED.has(e.code) ? e.status : undefined,
      });
      throw err;
    }
    span.committed(committed.status, call.stream ? undefined : committed.usage());
    return committed;
  };
}
