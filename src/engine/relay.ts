import { GatewayError, isGatewayError } from "../protocol/errors.ts";
import { errorEvent, lastEventEnd } from "../protocol/sse.ts";
import { classifyTransportError } from "../upstream/errors.ts";

const EMPTY = Buffer.alloc(0);

/**
 * Relays a committed stream downstream. Bytes pass through untouched; only
 * complete events are released, so that when the upstream fails mid-stream the
 * client sees whole events followed by one error event, never half of one.
 */
export async function* relay(
  head: Buffer,
  rest: AsyncIterator<Uint8Array>,
  signal: AbortSignal,
  label: string,
  onEnd: (completed: boolean, err?: GatewayError) => void,
): AsyncGenerator<Uint8Array> {
  let pending: Buffer = EMPTY;
  let failure: GatewayError | undefined;
  let completed = false;
  let next: Uint8Array | undefined = head;
  try {
    for (;;) {
      if (next === undefined) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await rest.next();
        } catch (err) {
          failure = classifyTransportError(err, signal, label);
          if (failure.code !== "SY_ERR_CLIENT_ABORT") yield errorEvent(failure);
          return;
        }
        if (r.done) break;
        next = r.value;
      }
      const chunk = Buffer.isBuffer(next) ? next : Buffer.from(next.buffer, next.byteOffset, next.byteLength);
      next = undefined;
      const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const end = lastEventEnd(data);
      if (end === data.length) {
        pending = EMPTY;
        yield data;
      } else {
        if (end > 0) yield data.subarray(0, end);
        pending = data.subarray(end);
      }
    }
    if (pending.length > 0) yield pending;
    completed = true;
  } catch (err) {
    failure = isGatewayError(err) ? err : new GatewayError("SY_ERR_INTERNAL", String(err));
    throw err;
  } finally {
    // A consumer that stopped early (or a failure) must not leave the upstream running.
    onEnd(completed, failure);
    if (!completed) await rest.return?.().catch(() => {});
  }
}
