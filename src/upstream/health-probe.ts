import { chatCodec } from "../codecs/index.ts";
import { DEFAULTS } from "../config/defaults.ts";
import type { HealthCheckSettings } from "../config/types.ts";
import { GatewayError } from "../protocol/errors.ts";
import { redactClip } from "../protocol/redact.ts";
import type { UpstreamCall } from "../providers/types.ts";
import type { Clock } from "../time/clock.ts";
import { classifyTransportError } from "./errors.ts";
import type { ProviderRuntime } from "./runtime.ts";
import { readBody } from "./transport.ts";

/** A model name no upstream serves: the chat probe's answer is a refusal, which costs no tokens. */
export const PROBE_MODEL = "switchyard-health-probe";

/** One probe's result. */
export interface Probed {
  /** The upstream answered over HTTP with less than a 5xx. */
  reachable: boolean;
  /** The check passed: the provider is there and answering as it should. */
  healthy: boolean;
  /** Which probe decided: the model listing, a configured path, or a chat request. */
  probe: "models" | "path" | "chat";
  status?: number;
  responseTimeMs: number;
  error?: string;
  errorCode?: string;
  checkedAt: number;
}

interface Answer {
  status: number;
  err?: GatewayError;
}

/**
 * Probes one provider without spending tokens: `GET /models` (or the
 * configured `path`), any 2xx passing. An upstream without a model listing
 * (404/405) is asked instead for a chat with a model that cannot exist; a
 * 400, 404 or 422 refusal proves it alive, unless its 404 is the same error
 * the listing got, which is what a wrong base_url answers to every path. A
 * configured `model` is probed with a one-token chat instead, which must
 * answer 2xx. The whole probe, both requests, runs within one budget.
 */
export interface ProbeOptions {
  settings?: HealthCheckSettings;
  /** Ends the probe early (the gateway is closing). */
  signal?: AbortSignal;
  /** Which of the provider's keys to send (one off the bench); the first when absent. */
  keyIndex?: number;
  /** Given a 2xx model listing's body, which refreshes the upstream model list. */
  onListing?: (body: Buffer) => void;
}

export async function probeProvider(name: string, rt: ProviderRuntime, clock: Clock, secrets: readonly string[], options: ProbeOptions = {}): Promise<Probed> {
  const { settings, signal } = options;
  const started = clock.now();
  const configured = rt.prepared.config.timeouts;
  const limit = settings?.timeout ?? DEFAULTS.healthCheck.timeout;
  const budgetMs = configured.total > 0 ? Math.min(limit, configured.total) : limit;
  const label = `provider "${name}"`;
  // The budget covers the whole probe, so running out of it is a total timeout. A phase timeout
  // shorter than the budget stays armed and keeps its own code; one as long or longer could
  // never fire first, so it is left to the budget (0 means none).
  const within = (ms: number) => (ms > 0 && ms < budgetMs ? ms : 0);
  const timeouts = { ...configured, firstByte: within(configured.firstByte), idle: within(configured.idle) };
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal!.reason);
  if (signal?.aborted) ac.abort(signal.reason);
  else signal?.addEventListener("abort", onAbort, { once: true });
  const budget = clock.setTimeout(() => {
    ac.abort(new GatewayError("SY_ERR_TOTAL_TIMEOUT", `health probe of ${label} used its whole budget of ${budgetMs} ms`));
  }, budgetMs);
  const headers = rt.prepared.keyHeaders[options.keyIndex ?? 0] ?? rt.prepared.keyHeaders[0];
  const ask = async (call: UpstreamCall, onBody?: (body: Buffer) => void): Promise<Answer> => {
    const res = await rt.transport.send(call, ac.signal, timeouts);
    const body = await readBody(res);
    if (res.status >= 200 && res.status < 300) {
      onBody?.(body);
      return { status: res.status };
    }
    return { status: res.status, err: rt.adapter.classifyStatus({ status: res.status, headers: res.headers, body: body.toString("utf8") }, clock.now()) };
  };
  const done = (probe: Probed["probe"], a: Answer, healthy: boolean, shown: Answer = a): Probed => {
    const result: Probed = { reachable: a.status < 500, healthy, probe, status: shown.status, responseTimeMs: clock.now() - started, checkedAt: clock.now() };
    if (!healthy && shown.err !== undefined) {
      result.error = redactClip(shown.err.message, secrets);
      result.errorCode = shown.err.code;
    }
    return result;
  };
  try {
    if (settings?.model !== undefined) {
      const a = await ask(chatProbe(rt, settings.model, headers));
      return done("chat", a, a.err === undefined);
    }
    const listing = rt.adapter.probeCall(rt.prepared, headers);
    const path = settings?.path;
    const first = await ask(path === undefined ? listing : { ...listing, path: `${rt.prepared.pathPrefix}${path}` }, path === undefined ? options.onListing : undefined);
    if (first.err === undefined) return done(path === undefined ? "models" : "path", first, true);
    if (path !== undefined || (first.status !== 404 && first.status !== 405)) return done(path === undefined ? "models" : "path", first, false);
    const chat = await ask(chatProbe(rt, PROBE_MODEL, headers));
    const refused = chat.status === 400 || chat.status === 404 || chat.status === 422;
    const alive = chat.err === undefined || (refused && !(chat.status === 404 && sameError(first.err, chat.err)));
    // Not alive: the listing's answer is the one to show, since that is the path a user would check first.
    return alive ? done("chat", chat, true) : done("models", chat, false, first);
  } catch (err) {
    const e = classifyTransportError(err, ac.signal, label);
    return {
      reachable: false,
      healthy: false,
      probe: settings?.model !== undefined ? "chat" : settings?.path !== undefined ? "path" : "models",
      responseTimeMs: clock.now() - started,
      error: redactClip(e.message, secrets),
      errorCode: e.code,
      checkedAt: clock.now(),
    };
  } finally {
    clock.clearTimeout(budget);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** A one-token chat for `model`, in the provider's own API. */
function chatProbe(rt: ProviderRuntime, model: string, headers: Record<string, string>): UpstreamCall {
  const body = chatCodec(rt.adapter.chatApi).encodeRequest!({ model, messages: [{ role: "user", content: "ping" }], max_tokens: 1 }, model);
  return rt.adapter.buildCall({ op: "chat", body, model, stream: false, provider: rt.prepared, headers });
}

/** A missing route answers every path alike: same status and the same error type and code, when it gives any. */
function sameError(a: GatewayError | undefined, b: GatewayError | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a.status === b.status && a.upstream?.type === b.upstream?.type && a.upstream?.code === b.upstream?.code;
}
