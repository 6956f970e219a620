/**
 * The mock upstream speaking Google's Gemini API (v1beta): generateContent,
 * streamGenerateContent (SSE with `alt=sse`, else a JSON array), embedContent,
 * batchEmbedContents and the model list, in Google's own shapes, errors and
 * faults included. Like Gemini it refuses fields it does not know (so a
 * translation that leaks OpenAI's fields or JSON Schema keys Gemini lacks
 * fails here as it would there), signs the function calls it makes and
 * refuses a conversation that comes back without the signature.
 */
import type { FaultSpec } from "./faults.ts";
import { MAX_DIMENSIONS } from "./limits.ts";
import { embeddings, replyTokens } from "./openai-wire.ts";
import { sendFault, sendJson, sendReply } from "./respond.ts";
import type { Exchange, Reply } from "./respond.ts";

export interface GeminiAsk {
  method: string;
  /** The request's path and query. */
  url: string;
  body: Record<string, unknown> | null;
  badJson: boolean;
  header(name: string): string | undefined;
  /** When set, the key Gemini must be sent (x-goog-api-key, or ?key=). */
  apiKey: string | undefined;
  models: readonly string[];
  /** Reply length in tokens. */
  tokens: number;
  /** Names the answer (responseId) and the signatures the mock makes. */
  rid: string;
}

export type GeminiAnswer = { reply: Reply } | { status: number; json: string; headers?: Record<string, string> };

/** google.rpc.Code names of the statuses the mock answers with. */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Google's error body. */
export function googleError(code: number, message: string, details?: unknown[]): string {
  const status = STATUS_NAMES[code] ?? (code >= 500 ? "UNKNOWN" : "FAILED_PRECONDITION");
  return JSON.stringify({ error: { code, message, status, ...(details === undefined ? {} : { details }) } });
}

const fail = (status: number, message: string, details?: unknown[]): GeminiAnswer => ({ status, json: googleError(status, message, details) });
const invalid = (message: string): GeminiAnswer => fail(400, message);
const unknownName = (name: string, at: string): GeminiAnswer =>
  invalid(`Invalid JSON payload received. Unknown name "${name}"${at === "" ? "" : ` at '${at}'`}: Cannot find field.`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const REQUEST_KEYS = new Set(["model", "contents", "tools", "toolConfig", "safetySettings", "systemInstruction", "generationConfig", "cachedContent"]);
const GENERATION_KEYS = new Set([
  "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities", "candidateCount", "maxOutputTokens",
  "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "thinkingConfig", "mediaResolution", "speechConfig",
]);
const PART_KEYS = new Set(["text", "inlineData", "fileData", "functionCall", "functionResponse", "thought", "thoughtSignature", "executableCode", "codeExecutionResult", "videoMetadata"]);
const SCHEMA_KEYS = new Set([
  "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties", "maxProperties",
  "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
]);
const EMBED_KEYS = new Set(["model", "content", "taskType", "title", "outputDimensionality"]);
/** Gemini's limit on the requests of one batchEmbedContents. */
const MAX_BATCH = 100;

function unknownKey(o: Record<string, unknown>, known: ReadonlySet<string>, at: string): GeminiAnswer | undefined {
  for (const k of Object.keys(o)) if (!known.has(k)) return unknownName(k, at);
  return undefined;
}

function checkSchema(s: unknown, at: string): GeminiAnswer | undefined {
  if (!isObject(s)) return undefined;
  const bad = unknownKey(s, SCHEMA_KEYS, at);
  if (bad !== undefined) return bad;
  if (s.type === "object" && isObject(s.properties) && Object.keys(s.properties).length === 0) return invalid(`* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`);
  for (const [name, p] of Object.entries(isObject(s.properties) ? s.properties : {})) {
    const problem = checkSchema(p, `${at}.properties[${name}]`);
    if (problem !== undefined) return problem;
  }
  if (Array.isArray(s.anyOf)) for (const [i, m] of s.anyOf.entries()) {
    const problem = checkSchema(m, `${at}.any_of[${i}]`);
    if (problem !== undefined) return problem;
  }
  return checkSchema(s.items, `${at}.items`);
}

interface Declaration {
  name: string;
  parameters?: Record<string, unknown>;
}

function declarations(body: Record<string, unknown>): Declaration[] {
  const out: Declaration[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    for (const d of isObject(t) && Array.isArray(t.functionDeclarations) ? t.functionDeclarations : []) {
      if (isObject(d) && typeof d.name === "string") out.push({ name: d.name, parameters: isObject(d.parameters) ? d.parameters : undefined });
    }
  }
  return out;
}

/** The first problem Gemini would find with a generateContent body. */
function checkGenerate(body: Record<string, unknown>): GeminiAnswer | undefined {
  const top = unknownKey(body, REQUEST_KEYS, "");
  if (top !== undefined) return top;
  if (!Array.isArray(body.contents) || body.contents.length === 0) return invalid("* GenerateContentRequest.contents: contents is not specified");
  for (const [i, c] of body.contents.entries()) {
    if (!isObject(c) || !Array.isArray(c.parts) || c.parts.length === 0) return invalid(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`);
    if (c.role !== undefined && c.role !== "user" && c.role !== "model") return invalid(`Please use a valid role: user, model.`);
    for (const [j, p] of c.parts.entries()) {
      if (!isObject(p)) return invalid(`* GenerateContentRequest.contents[${i}].parts[${j}]: must be an object`);
      const bad = unknownKey(p, PART_KEYS, `contents[${i}].parts[${j}]`);
      if (bad !== undefined) return bad;
      const fr = p.functionResponse;
      if (fr !== undefined && (!isObject(fr) || typeof fr.name !== "string" || fr.name === "" || !isObject(fr.response))) {
        return invalid(`* GenerateContentRequest.contents[${i}].parts[${j}].function_response: name and response (an object) are required`);
      }
    }
  }
  if (isObject(body.generationConfig)) {
    const bad = unknownKey(body.generationConfig, GENERATION_KEYS, "generation_config");
    if (bad !== undefined) return bad;
    const schema = checkSchema(body.generationConfig.responseSchema, "generation_config.response_schema");
    if (schema !== undefined) return schema;
  }
  for (const [i, t] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    for (const [j, d] of (isObject(t) && Array.isArray(t.functionDeclarations) ? t.functionDeclarations : []).entries()) {
      const problem = isObject(d) ? checkSchema(d.parameters, `tools[${i}].function_declarations[${j}].parameters`) : undefined;
      if (problem !== undefined) return problem;
    }
  }
  return checkSignatures(body.contents as Array<{ role?: unknown; parts: Array<Record<string, unknown>> }>);
}

/**
 * Gemini 3's rule: in the current turn (since the last user content that is
 * not function results) the first function call of every model step must
 * come back with the thought signature it was given.
 */
function checkSignatures(contents: Array<{ role?: unknown; parts: Array<Record<string, unknown>> }>): GeminiAnswer | undefined {
  let start = 0;
  contents.forEach((c, i) => {
    if (c.role !== "model" && c.parts.some((p) => p.functionResponse === undefined)) start = i;
  });
  for (let i = start; i < contents.length; i++) {
    const c = contents[i];
    const first = c.role === "model" ? c.parts.find((p) => p.functionCall !== undefined) : undefined;
    if (first !== undefined && typeof first.thoughtSignature !== "string") {
      return invalid(`Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Position in contents: ${i}.`);
    }
  }
  return undefined;
}

/** Arguments for a call: a value for every required property, as its schema allows. */
function argsFor(d: Declaration): Record<string, unknown> {
  const props = isObject(d.parameters?.properties) ? d.parameters.properties : {};
  const required = Array.isArray(d.parameters?.required) ? d.parameters.required : [];
  const args: Record<string, unknown> = {};
  for (const name of required) {
    const p = typeof name === "string" && isObject(props[name]) ? (props[name] as Record<string, unknown>) : {};
    if (Array.isArray(p.enum) && p.enum.length > 0) args[name] = p.enum[0];
    else if (p.type === "number" || p.type === "integer" || p.type === "NUMBER" || p.type === "INTEGER") args[name] = 1;
    else if (p.type === "boolean" || p.type === "BOOLEAN") args[name] = true;
    else if (p.type === "array" || p.type === "ARRAY") args[name] = [];
    else if (p.type === "object" || p.type === "OBJECT") args[name] = {};
    else args[name] = "mock";
  }
  return args;
}

function textOf(v: unknown): number {
  if (!isObject(v) || !Array.isArray(v.parts)) return 0;
  return v.parts.reduce((n: number, p) => n + (isObject(p) && typeof p.text === "string" ? p.text.length : 0), 0);
}

function promptTokens(body: Record<string, unknown>): number {
  let chars = textOf(body.systemInstruction);
  for (const c of Array.isArray(body.contents) ? body.contents : []) chars += textOf(c);
  return Math.max(1, Math.ceil(chars / 4));
}

/** The signature the mock gives its answers: opaque base64, as Gemini's are. */
const signature = (rid: string, what: string): string => Buffer.from(`mock-signature:${what}:${rid}`).toString("base64");

/** The answer's parts in the order they stream: thoughts, then the calls or the text tokens. */
function answerParts(ask: GeminiAsk, body: Record<string, unknown>): { parts: Array<Record<string, unknown>>; finish: string; thoughts: number; output: number } {
  const gen = isObject(body.generationConfig) ? body.generationConfig : {};
  const thinking = isObject(gen.thinkingConfig) && gen.thinkingConfig.includeThoughts === true;
  const parts: Array<Record<string, unknown>> = thinking ? [{ text: "Thinking it over.", thought: true }] : [];
  const thoughts = thinking ? 4 : 0;
  const decls = declarations(body);
  const contents = body.contents as Array<{ parts: Array<Record<string, unknown>> }>;
  const answering = contents.at(-1)!.parts.some((p) => p.functionResponse !== undefined);
  const calling = isObject(body.toolConfig) && isObject(body.toolConfig.functionCallingConfig) ? body.toolConfig.functionCallingConfig : {};
  if (decls.length > 0 && !answering && calling.mode !== "NONE") {
    const allowed = Array.isArray(calling.allowedFunctionNames) ? decls.filter((d) => (calling.allowedFunctionNames as unknown[]).includes(d.name)) : decls;
    let pool = allowed.length > 0 ? allowed : decls;
    // x-mock-tool names the function to call (a coding agent offers dozens), x-mock-tool-args its arguments.
    const named = ask.header("x-mock-tool");
    if (named !== undefined && pool.some((d) => d.name === named)) pool = pool.filter((d) => d.name === named);
    const argsHeader = ask.header("x-mock-tool-args");
    let fixedArgs: unknown;
    try {
      fixedArgs = argsHeader === undefined ? undefined : JSON.parse(argsHeader);
    } catch {
      fixedArgs = undefined;
    }
    const count = Number(ask.header("x-mock-tool-calls") ?? "1");
    for (let i = 0; i < count; i++) {
      const d = pool[i % pool.length];
      const part: Record<string, unknown> = { functionCall: { name: d.name, args: fixedArgs ?? argsFor(d) } };
      // As Gemini 3 does: only the first call of a step is signed.
      if (i === 0) part.thoughtSignature = signature(ask.rid, "call");
      parts.push(part);
    }
    return { parts, finish: "STOP", thoughts, output: 5 * count };
  }
  const limit = typeof gen.maxOutputTokens === "number" ? gen.maxOutputTokens : undefined;
  const tokens = replyTokens({ max_tokens: limit }, ask.tokens);
  for (const t of tokens) parts.push({ text: t });
  const last = parts.at(-1);
  if (thinking && last !== undefined && last.thought !== true) last.thoughtSignature = signature(ask.rid, "text");
  return { parts, finish: limit !== undefined && tokens.length >= limit ? "MAX_TOKENS" : "STOP", thoughts, output: tokens.length };
}

function generate(ask: GeminiAsk, model: string, body: Record<string, unknown>, stream: "sse" | "json" | false): GeminiAnswer {
  const problem = checkGenerate(body);
  if (problem !== undefined) return problem;
  const tools = ask.header("x-mock-tool-calls");
  if (tools !== undefined && !/^([1-9]|1[0-6])$/.test(tools)) return invalid(`Header x-mock-tool-calls must be an integer from 1 to 16, got '${tools}'.`);
  const { parts, finish, thoughts, output } = answerParts(ask, body);
  const prompt = promptTokens(body);
  const usageMetadata: Record<string, number> = { promptTokenCount: prompt, candidatesTokenCount: output, totalTokenCount: prompt + output + thoughts };
  if (thoughts > 0) usageMetadata.thoughtsTokenCount = thoughts;
  const envelope = { modelVersion: model, responseId: ask.rid };
  const candidate = (p: unknown[], end: boolean) => ({ content: { parts: p, role: "model" }, ...(end ? { finishReason: finish } : {}), index: 0 });
  if (stream === false) {
    const json = JSON.stringify({ candidates: [candidate(parts, true)], usageMetadata, ...envelope });
    return { reply: { stream: false, json, tokenCount: output } };
  }
  // One event per part, finishReason and the whole usage on the last; the prompt count on every one.
  const running = { promptTokenCount: prompt, totalTokenCount: prompt };
  const payloads = (parts.length === 0 ? [{ text: "" }] : parts).map((p, i, all) => {
    const end = i === all.length - 1;
    return JSON.stringify({ candidates: [candidate([p], end)], usageMetadata: end ? usageMetadata : running, ...envelope });
  });
  if (stream === "json") return { reply: { stream: false, json: `[${payloads.join(",\r\n")}]`, tokenCount: output } };
  const lead = parts.length > 0 && parts[0].thought === true ? 1 : 0;
  return { reply: { stream: true, events: payloads.map((p) => `data: ${p}\r\n\r\n`), tokenStart: lead, tokenCount: payloads.length - lead } };
}

function embedTexts(body: Record<string, unknown>, at: string): string[] | GeminiAnswer {
  const bad = unknownKey(body, EMBED_KEYS, at);
  if (bad !== undefined) return bad;
  const parts = isObject(body.content) && Array.isArray(body.content.parts) ? body.content.parts : [];
  const texts = parts.flatMap((p) => (isObject(p) && typeof p.text === "string" ? [p.text] : []));
  if (texts.length === 0) return invalid(`* ${at === "" ? "EmbedContentRequest" : at}.content: content is not specified`);
  return [texts.join(" ")];
}

function embed(model: string, body: Record<string, unknown>, batch: boolean): GeminiAnswer {
  const requests = batch ? body.requests : [body];
  if (batch) {
    const bad = unknownKey(body, new Set(["requests"]), "");
    if (bad !== undefined) return bad;
  }
  if (!Array.isArray(requests) || requests.length === 0) return invalid("* BatchEmbedContentsRequest.requests: requests is not specified");
  if (requests.length > MAX_BATCH) return invalid(`* BatchEmbedContentsRequest.requests: at most ${MAX_BATCH} requests can be in one batch`);
  const vectors: number[][] = [];
  for (const [i, r] of requests.entries()) {
    if (!isObject(r)) return invalid(`* BatchEmbedContentsRequest.requests[${i}]: must be an object`);
    if (batch && r.model !== `models/${model}`) return invalid(`* BatchEmbedContentsRequest.requests[${i}].model: the model of each request must be the model of the batch, models/${model}`);
    const texts = embedTexts(r, batch ? `requests[${i}]` : "");
    if (!Array.isArray(texts)) return texts;
    const dims = r.outputDimensionality;
    if (dims !== undefined && (typeof dims !== "number" || !Number.isInteger(dims) || dims < 1 || dims > MAX_DIMENSIONS)) {
      return invalid(`* outputDimensionality must be an integer from 1 to ${MAX_DIMENSIONS}`);
    }
    const made = embeddings({ input: texts, dimensions: dims }, { model }) as { data: Array<{ embedding: number[] }> };
    vectors.push(made.data[0].embedding);
  }
  const json = batch ? { embeddings: vectors.map((values) => ({ values })) } : { embedding: { values: vectors[0] } };
  return { reply: { stream: false, json: JSON.stringify(json), tokenCount: 0 } };
}

function modelList(names: readonly string[]): string {
  return JSON.stringify({
    models: names.map((n) => {
      const embedder = n.includes("embedding");
      return {
        name: `models/${n}`,
        version: "001",
        displayName: n,
        description: "A model of the Switchyard mock.",
        inputTokenLimit: embedder ? 2048 : 1_048_576,
        outputTokenLimit: embedder ? 1 : 65_536,
        supportedGenerationMethods: embedder ? ["embedContent", "batchEmbedContents"] : ["generateContent", "countTokens"],
      };
    }),
  });
}

/** True for a path the Gemini side of the mock answers. */
export function isGeminiPath(url: string): boolean {
  return url.startsWith("/v1beta/");
}

/** What the mock answers a Gemini API request with: a reply (faults may still replace it), or an error now. */
export function geminiAnswer(ask: GeminiAsk): GeminiAnswer {
  const q = ask.url.indexOf("?");
  const path = q === -1 ? ask.url : ask.url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? "" : ask.url.slice(q + 1));
  if (ask.apiKey !== undefined) {
    const key = ask.header("x-goog-api-key") ?? query.get("key") ?? undefined;
    if (key === undefined) return fail(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    if (key !== ask.apiKey) {
      return fail(400, "API key not valid. Please pass a valid API key.", [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" }]);
    }
  }
  if (ask.method === "GET" && path === "/v1beta/models") return { reply: { stream: false, json: modelList(ask.models), tokenCount: 0 } };
  const m = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/.exec(path);
  const action = m?.[2];
  if (ask.method !== "POST" || m === null || !["generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents"].includes(action!)) {
    return fail(404, `Method not found: ${ask.method} ${path}`);
  }
  if (ask.badJson || ask.body === null) return invalid("Invalid JSON payload received.");
  const model = decodeURIComponent(m[1]);
  if (action === "embedContent" || action === "batchEmbedContents") return embed(model, ask.body, action === "batchEmbedContents");
  return generate(ask, model, ask.body, action === "generateContent" ? false : query.get("alt") === "sse" ? "sse" : "json");
}

/** Faults as Gemini shows them: statuses and error events carry Google's error body; the rest is the same for every API. */
export function sendGeminiFault(ex: Exchange, fault: FaultSpec, reply: Reply): void {
  if (fault.kind === "status") {
    const status = fault.status ?? 500;
    const wait = fault.retryAfter;
    if (status === 429) {
      const details = wait === undefined ? undefined : [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${wait}s` }];
      const json = googleError(429, "Resource has been exhausted (e.g. check quota). Injected by the Switchyard mock.", details);
      return sendJson(ex, 429, json, wait === undefined ? undefined : { "retry-after": String(wait) });
    }
    return sendJson(ex, status, googleError(status, `Injected status ${status} from the Switchyard mock.`), wait === undefined ? undefined : { "retry-after": String(wait) });
  }
  if (fault.kind === "error-event") {
    const err = googleError(500, "Injected error event from the Switchyard mock.");
    if (!reply.stream) return sendJson(ex, 200, err);
    const events = [...reply.events.slice(0, fault.after ?? 0), `data: ${err}\r\n\r\n`];
    return sendReply(ex, { stream: true, events, tokenStart: 0, tokenCount: 0 }, { ttftMs: 0, tps: 0 });
  }
  sendFault(ex, fault, reply);
}
