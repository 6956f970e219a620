/**
 * The cumulative Prometheus series the request events feed, with
 * OpenTelemetry GenAI names where the semantic conventions have one
 * (gen_ai.server.request.duration, gen_ai.server.time_to_first_token,
 * gen_ai.client.operation.duration, gen_ai.client.token.usage) and
 * `switchyard_` names for the rest. Label values are bounded: a model or a
 * target that is not configured is counted under OTHER.
 */
import { CounterFamily, HistogramFamily } from "./families.ts";

/** The label value of every model or target name that is not in the config. */
export const OTHER = "_other";

/** OpenTelemetry's advice for gen_ai operation durations, in seconds. */
export const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** OpenTelemetry's advice for time to first token, in seconds. */
export const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** OpenTelemetry's advice for token counts. */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** What the gateway adds: tenths of a millisecond up to seconds (a queue wait counts). */
export const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
export const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class MetricFamilies {
  readonly requests = new CounterFamily(
    "switchyard_requests_total",
    "Requests that ended, by public model, the target that answered last (none when no attempt was made), HTTP status and outcome.",
    ["model", "target", "status", "outcome"],
  );
  readonly attempts = new CounterFamily(
    "switchyard_upstream_attempts_total",
    "Upstream attempts that ended, by target and outcome (a stream's when it ends).",
    ["target", "outcome"],
  );
  readonly retries = new CounterFamily("switchyard_retries_total", "Attempts after a request's first, hedges apart.", ["model"]);
  readonly hedges = new CounterFamily("switchyard_hedges_total", "Hedged attempts that raced another and lost.", ["model"]);
  readonly fallbacks = new CounterFamily("switchyard_fallbacks_total", "Requests whose last attempt went to a target of a fallback model.", ["model"]);
  readonly tokens = new CounterFamily("switchyard_tokens_total", "Tokens as the upstreams reported them, by type (input or output).", ["model", "target", "type"]);
  readonly cost = new CounterFamily(
    "switchyard_cost_total",
    "Estimated cost from the configured prices (pricing: or targets[].cost, per million tokens), in their currency.",
    ["model", "target"],
  );
  readonly cache = new CounterFamily(
    "switchyard_cache_requests_total",
    "Requests the response cache took, by public model and how: hit, miss, refresh or bypass (a hit makes no upstream attempt).",
    ["model", "status"],
  );
  readonly coalesced = new CounterFamily("switchyard_cache_coalesced_total", "Requests that shared an identical request's upstream call already under way.", ["model"]);
  readonly duration = new HistogramFamily(
    "gen_ai_server_request_duration_seconds",
    "Whole requests as the client saw them: from arrival to the end of the answer (of the stream, for streams).",
    ["gen_ai_operation_name", "model", "target", "outcome"],
    DURATION_BUCKETS,
  );
  readonly ttft = new HistogramFamily(
    "gen_ai_server_time_to_first_token_seconds",
    "Streamed requests: from arrival until the first event was ready to send.",
    ["gen_ai_operation_name", "model", "target"],
    TTFT_BUCKETS,
  );
  readonly upstream = new HistogramFamily(
    "gen_ai_client_operation_duration_seconds",
    "Upstream attempts: from sending until the commit point (the whole answer, or a stream's first event) or the failure.",
    ["target", "outcome"],
    DURATION_BUCKETS,
  );
  readonly overhead = new HistogramFamily(
    "switchyard_gateway_overhead_seconds",
    "Requests answered by their first attempt: time to the commit point less the upstream attempt's own (waits in the gateway's limit queues included).",
    ["model"],
    OVERHEAD_BUCKETS,
  );
  readonly queueWait = new HistogramFamily(
    "switchyard_queue_wait_seconds",
    "Waits for a concurrency slot or room in a rate window, by queue and how they ended (admitted, timeout, left).",
    ["queue", "outcome"],
    QUEUE_BUCKETS,
  );
  readonly tokenUsage = new HistogramFamily(
    "gen_ai_client_token_usage",
    "Tokens per request as the upstreams reported them.",
    ["gen_ai_operation_name", "gen_ai_token_type", "model", "target"],
    TOKEN_BUCKETS,
  );

  all() {
    return [
      this.requests,
      this.attempts,
      this.retries,
      this.hedges,
      this.fallbacks,
      this.tokens,
      this.cost,
      this.cache,
      this.coalesced,
      this.duration,
      this.ttft,
      this.upstream,
      this.overhead,
      this.queueWait,
      this.tokenUsage,
    ];
  }
}
