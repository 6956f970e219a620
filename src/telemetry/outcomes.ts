/**
 * How an ended request or attempt counts, from its catalogue code
 * (protocol/errors.ts): the `outcome` label of the metrics, and whether it
 * counts against a target's or a model's success rate.
 */

export type Outcome = "success" | "error" | "timeout" | "client_error" | "cancelled";

/** Ended by the client, a hedge that lost, or shutdown: says nothing about the upstream. */
const CANCELLED = new Set(["SY_ERR_CLIENT_ABORT", "SY_ERR_STREAM_ABANDONED", "SY_ERR_HEDGE_CANCELLED", "SY_ERR_SHUTTING_DOWN"]);
/** The request itself was at fault, and the upstream said so. */
const CLIENT_ERROR = new Set(["SY_ERR_UPSTREAM_CLIENT_ERROR", "SY_ERR_BAD_REQUEST"]);
const TIMEOUTS = new Set(["SY_ERR_CONNECT_TIMEOUT", "SY_ERR_FIRST_BYTE_TIMEOUT", "SY_ERR_IDLE_TIMEOUT", "SY_ERR_TOTAL_TIMEOUT", "SY_ERR_QUEUE_TIMEOUT"]);

export function outcomeOf(code: string | undefined): Outcome {
  if (code === undefined) return "success";
  if (TIMEOUTS.has(code)) return "timeout";
  if (CANCELLED.has(code)) return "cancelled";
  if (CLIENT_ERROR.has(code)) return "client_error";
  return "error";
}

/** The OpenTelemetry GenAI `gen_ai.operation.name` of each client API. */
export function genAiOperation(op: string | undefined): string {
  switch (op) {
    case "completions":
      return "text_completion";
    case "embeddings":
      return "embeddings";
    default:
      return "chat";
  }
}
