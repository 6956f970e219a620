/**
 * OpenTelemetry tracing: a span per request (kind server, the child of the
 * client's `traceparent` when it sent one) and a span per upstream attempt
 * (kind client, the request span's child), exported over OTLP/HTTP.
 *
 * Request spans are built from the gateway's diagnostics channels. Attempt
 * spans are started by an attempt wrapper (engine/wrappers/tracing.ts), since
 * the attempt's own trace context has to go upstream with its call; a
 * streamed attempt's span ends on the stream's end event. Only a gateway
 * configured with `telemetry.otlp_endpoint` creates one of these, so a
 * gateway without it has no subscriber, no wrapper and no exporter.
 *
 * Nothing is registered globally (no global tracer provider, context manager
 * or propagator): parents are passed explicitly, so several gateways in one
 * process each export their own spans.
 */
import type { Attributes, Context, Span, Tracer } from "@opentelemetry/api";
import type { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { IdGenerator, SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import type { TracingConfig } from "../config/types.ts";
import type { Usage } from "../protocol/chat.ts";
import { type CacheAnswer, observeGateway, type RequestEnd, type RequestStart, type StreamEnd } from "./channels.ts";
import type { Logger } from "./log.ts";
import { otlpExporter } from "./tracing-export.ts";
import { type Otel, otel } from "./tracing-sdk.ts";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  GEN_AI_OPERATION_NAME,
  GEN_AI_PROVIDER_NAME,
  GEN_AI_REQUEST_MODEL,
  GEN_AI_RESPONSE_MODEL,
  operationName,
  providerName,
  SY_ATTEMPTS,
  SY_CACHE,
  SY_PROVIDER,
  SY_REQUEST_ID,
  SY_STREAM,
  SY_TARGET,
  spanName,
  usageAttributes,
} from "./tracing-attributes.ts";

export interface TracingOptions {
  /** Wall-clock milliseconds (the engine's clock): span start and end times. */
  now: () => number;
  /** Where failed exports are reported (at warn); silent when left out. */
  logger?: Logger;
  /** Replaces the OTLP/HTTP exporter, for library users with their own. */
  exporter?: SpanExporter;
  /** Trace and span ids; random by default. */
  idGenerator?: IdGenerator;
}

/** What the tracing wrapper knows of one attempt. */
export interface AttemptInfo {
  requestId: string;
  op: string;
  stream: boolean;
  /** "provider/model". */
  target: string;
  /** The provider's name in the config. */
  provider: string;
  /** Its type (openai, anthropic, gemini …). */
  providerType: string;
  /** The upstream model name. */
  model: string;
  /** The upstream's origin, such as https://api.openai.com. */
  origin: string;
}

/** A failed attempt as the span records it; the message is already redacted. */
export interface AttemptFailure {
  code: string;
  message: string;
  /** The upstream's HTTP status, when it answered with one. */
  status?: number;
}

/** One attempt's span, as the wrapper drives it. */
export interface AttemptSpan {
  /** `traceparent` (and `tracestate`) naming this span, for the upstream call. */
  readonly headers: Record<string, string>;
  failed(failure: AttemptFailure): void;
  /** The attempt is the answer; a stream's span stays open until the stream ends. */
  committed(status: number, usage: Usage | undefined): void;
}

interface RequestTrace {
  span: Span;
  /** The context whose active span is `span`: the parent of the attempts' spans. */
  context: Context;
  /** The committed attempt's span of a stream still being relayed. */
  stream?: Span;
  /** gen_ai.provider.name of the attempt that answered. */
  answeredBy?: string;
  /** A request with the same id started earlier and still open (ids from clients need not be unique). */
  shadowed?: RequestTrace;
}

export class Tracing {
  readonly #otel: Otel;
  readonly #propagator: W3CTraceContextPropagator;
  readonly #root: Context;
  /** SpanStatusCode.ERROR. */
  readonly #error: number;
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #now: () => number;
  readonly #requests = new Map<string, RequestTrace>();
  /** Attempts under way (not yet failed or committed), ended by close() if still open. */
  readonly #attempts = new Set<Span>();
  /** server.address and server.port by origin, parsed once. */
  readonly #servers = new Map<string, Attributes>();
  readonly #unobserve: () => void;
  #closed: Promise<void> | undefined;

  constructor(config: TracingConfig, gateway: object, options: TracingOptions) {
    this.#now = options.now;
    const o = (this.#otel = otel());
    const { sdk } = o;
    this.#propagator = new o.core.W3CTraceContextPropagator();
    this.#root = o.api.ROOT_CONTEXT;
    this.#error = o.api.SpanStatusCode.ERROR;
    const exporter = options.exporter ?? otlpExporter(o, config, options.logger);
    this.#provider = new sdk.TracerProvider({
      resource: o.resources.resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
      sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
      ...(options.idGenerator === undefined ? {} : { idGenerator: options.idGenerator }),
    });
    this.#tracer = this.#provider.getTracer("switchyard");
    this.#unobserve = observeGateway(gateway, {
      requestStart: (m) => this.#requestStart(m),
      requestEnd: (m) => this.#requestEnd(m),
      streamEnd: (m) => this.#streamEnd(m),
      cacheAnswer: (m) => this.#cacheAnswer(m),
    });
  }

  #parentOf(m: { trace?: RequestStart["trace"] }): Context {
    return m.trace === undefined ? this.#root : this.#propagator.extract(this.#root, m.trace, this.#otel.api.defaultTextMapGetter);
  }

  /**
   * A request the cache answered without starting one of its own (a hit, or
   * one sharing another's upstream call) publishes no request events: its
   * span is made here, marked with how it was answered, and ends at once.
   */
  #cacheAnswer(m: CacheAnswer): void {
    if (m.status !== "hit" && !m.coalesced) return;
    const attributes: Attributes = {
      [GEN_AI_OPERATION_NAME]: operationName(m.op),
      [GEN_AI_REQUEST_MODEL]: m.model,
      [SY_REQUEST_ID]: m.requestId,
      [SY_CACHE]: m.status === "hit" ? "hit" : "coalesced",
    };
    const now = this.#now();
    const span = this.#tracer.startSpan(spanName(m.op, m.model), { kind: this.#otel.api.SpanKind.SERVER, startTime: now, attributes }, this.#parentOf(m));
    span.end(now);
  }

  #requestStart(m: RequestStart): void {
    const { api } = this.#otel;
    const parent = this.#parentOf(m);
    const attributes: Attributes = {
      [GEN_AI_OPERATION_NAME]: operationName(m.op),
      [GEN_AI_REQUEST_MODEL]: m.model,
      [SY_REQUEST_ID]: m.requestId,
      [SY_STREAM]: m.stream,
    };
    const span = this.#tracer.startSpan(spanName(m.op, m.model), { kind: api.SpanKind.SERVER, startTime: this.#now(), attributes }, parent);
    const rec: RequestTrace = { span, context: api.trace.setSpan(this.#root, span) };
    const open = this.#requests.get(m.requestId);
    if (open !== undefined) rec.shadowed = open;
    this.#requests.set(m.requestId, rec);
  }

  #requestEnd(m: RequestEnd): void {
    const rec = this.#requests.get(m.requestId);
    if (rec === undefined) return;
    if (rec.shadowed === undefined) this.#requests.delete(m.requestId);
    else this.#requests.set(m.requestId, rec.shadowed);
    const { span } = rec;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, m.status);
    span.setAttribute(SY_ATTEMPTS, m.attempts);
    if (m.target !== undefined) {
      span.setAttribute(SY_TARGET, m.target);
      // Provider names hold no "/": the rest is the upstream model.
      span.setAttribute(GEN_AI_RESPONSE_MODEL, m.target.slice(m.target.indexOf("/") + 1));
    }
    if (rec.answeredBy !== undefined) span.setAttribute(GEN_AI_PROVIDER_NAME, rec.answeredBy);
    if (m.usage !== undefined) span.setAttributes(usageAttributes(m.usage));
    if (m.code !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, m.code);
      // As HTTP servers' spans have it, a 4xx is the client's doing; a stream failing under a 200 is not.
      if (m.status >= 500 || m.status < 400) span.setStatus({ code: this.#error, message: m.message });
    }
    const end = this.#now();
    rec.stream?.end(end);
    span.end(end);
  }

  #streamEnd(m: StreamEnd): void {
    const rec = this.#requests.get(m.requestId);
    const span = rec?.stream;
    if (span === undefined) return;
    rec!.stream = undefined;
    if (m.usage !== undefined) span.setAttributes(usageAttributes(m.usage));
    if (m.error !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, m.error.code);
      span.setStatus({ code: this.#error, message: m.error.message });
    }
    span.end(this.#now());
  }

  /** Starts an attempt's span under its request's (a root span when the request is unknown). */
  startAttempt(a: AttemptInfo): AttemptSpan {
    const rec = this.#requests.get(a.requestId);
    const type = providerName(a.providerType);
    const attributes: Attributes = {
      [GEN_AI_OPERATION_NAME]: operationName(a.op),
      [GEN_AI_REQUEST_MODEL]: a.model,
      [GEN_AI_PROVIDER_NAME]: type,
      [SY_PROVIDER]: a.provider,
      [SY_TARGET]: a.target,
      [SY_REQUEST_ID]: a.requestId,
      ...this.#server(a.origin),
    };
    const { api } = this.#otel;
    const span = this.#tracer.startSpan(spanName(a.op, a.model), { kind: api.SpanKind.CLIENT, startTime: this.#now(), attributes }, rec?.context ?? this.#root);
    const headers: Record<string, string> = {};
    this.#propagator.inject(api.trace.setSpan(this.#root, span), headers, api.defaultTextMapSetter);
    const now = this.#now;
    const error = this.#error;
    const open = this.#attempts;
    open.add(span);
    return {
      headers,
      failed(f) {
        if (!open.delete(span)) return;
        span.setAttribute(ATTR_ERROR_TYPE, f.code);
        if (f.status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, f.status);
        span.setStatus({ code: error, message: f.message });
        span.end(now());
      },
      committed(status, usage) {
        if (!open.delete(span)) return;
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        // Only the first commit answers: a hedge that commits after losing is closed unread, and its span ends now.
        const answers = rec !== undefined && rec.answeredBy === undefined;
        if (answers) rec!.answeredBy = type;
        if (a.stream && answers) {
          rec!.stream = span;
          return;
        }
        if (usage !== undefined) span.setAttributes(usageAttributes(usage));
        span.end(now());
      },
    };
  }

  #server(origin: string): Attributes {
    let attrs = this.#servers.get(origin);
    if (attrs === undefined) {
      attrs = {};
      const url = URL.canParse(origin) ? new URL(origin) : undefined;
      // Only a network upstream has an address (the demo provider's origin is no URL to call).
      if (url?.protocol === "http:" || url?.protocol === "https:") {
        attrs[ATTR_SERVER_ADDRESS] = url.hostname;
        attrs[ATTR_SERVER_PORT] = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
      }
      this.#servers.set(origin, attrs);
    }
    return attrs;
  }

  /** Sends every ended span now. */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  /**
   * Stops observing, ends the spans of requests still open (as cut short by
   * the shutdown) and sends everything. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#unobserve();
    const end = this.#now();
    const cutShort = (span: Span) => {
      span.setAttribute(ATTR_ERROR_TYPE, "SY_ERR_SHUTTING_DOWN");
      span.setStatus({ code: this.#error, message: "the gateway shut down before this ended" });
      span.end(end);
    };
    for (const span of this.#attempts) cutShort(span);
    this.#attempts.clear();
    for (const latest of this.#requests.values()) {
      for (let rec: RequestTrace | undefined = latest; rec !== undefined; rec = rec.shadowed) {
        if (rec.stream !== undefined) cutShort(rec.stream);
        cutShort(rec.span);
      }
    }
    this.#requests.clear();
    await this.#provider.shutdown();
  }
}
