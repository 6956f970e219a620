import type { ChatMessage, ChatRequest, ToolCall, ToolChoice } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";
import { splitId } from "./ids.ts";
import { cleanSchema, geminiParameters } from "./schema.ts";

type Part = Record<string, unknown>;
interface Content {
  role: "user" | "model";
  parts: Part[];
}

/**
 * The internal request as a generateContent body (the model goes in the URL,
 * not the body). System and developer messages, wherever they stand, become
 * the one systemInstruction; assistant turns are `model` contents; the
 * results of one step's tool calls go back together, as functionResponse
 * parts of one `user` content, named after the calls they answer.
 */
export function encodeRequest(req: ChatRequest, model: string): Record<string, unknown> {
  const system: Part[] = [];
  const contents: Content[] = [];
  const names = new Map<string, string>();
  req.messages.forEach((m, i) => {
    if (m.role === "system" || m.role === "developer") {
      for (const text of texts(m.content)) system.push({ text });
      return;
    }
    if (m.role === "assistant") {
      for (const t of m.tool_calls ?? []) names.set(t.id, t.function.name);
      const parts = modelParts(m);
      if (parts.length > 0) contents.push({ role: "model", parts });
      return;
    }
    if (m.role === "tool") {
      const part = { functionResponse: { name: toolName(m, i, names), response: toolResponse(m.content) } };
      const last = contents.at(-1);
      // Answers to one step's parallel calls share one turn, as Gemini expects them.
      if (last !== undefined && last.role === "user" && last.parts.every((p) => p.functionResponse !== undefined)) last.parts.push(part);
      else contents.push({ role: "user", parts: [part] });
      return;
    }
    const parts = userParts(m);
    if (parts.length > 0) contents.push({ role: "user", parts });
  });

  const out: Record<string, unknown> = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const declarations = (req.tools ?? []).filter((t) => t.type === "function" && t.function !== undefined).map((t) => {
    const d: Record<string, unknown> = { name: t.function.name };
    if (t.function.description !== undefined) d.description = t.function.description;
    const parameters = geminiParameters(t.function.parameters);
    if (parameters !== undefined) d.parameters = parameters;
    return d;
  });
  if (declarations.length > 0) {
    out.tools = [{ functionDeclarations: declarations }];
    const config = callingConfig(req.tool_choice);
    if (config !== undefined) out.toolConfig = { functionCallingConfig: config };
  }
  const generation = generationConfig(req, model);
  if (Object.keys(generation).length > 0) out.generationConfig = generation;
  return out;
}

function texts(content: ChatMessage["content"]): string[] {
  if (typeof content === "string") return content === "" ? [] : [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((p) => (p.type === "text" && typeof p.text === "string" && p.text !== "" ? [p.text] : []));
}

/** A user message's parts: text, images and files inline (data: URLs) or by reference (http URLs), audio inline. */
function userParts(m: ChatMessage): Part[] {
  if (!Array.isArray(m.content)) return texts(m.content).map((text) => ({ text }));
  const out: Part[] = [];
  for (const p of m.content as unknown as Array<Record<string, unknown>>) {
    if (p.type === "text" && typeof p.text === "string" && p.text !== "") out.push({ text: p.text });
    else if (p.type === "image_url") {
      const url = (p.image_url as { url?: unknown } | undefined)?.url;
      if (typeof url === "string") out.push(media(url));
    } else if (p.type === "input_audio") {
      const a = p.input_audio as { data?: unknown; format?: unknown } | undefined;
      if (typeof a?.data === "string") out.push({ inlineData: { mimeType: `audio/${typeof a.format === "string" ? a.format : "wav"}`, data: a.data } });
    } else if (p.type === "file") {
      const f = p.file as { file_data?: unknown } | undefined;
      if (typeof f?.file_data === "string") out.push(media(f.file_data));
    }
  }
  return out;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  pdf: "application/pdf",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
};

function media(url: string): Part {
  const data = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (data !== null) return { inlineData: { mimeType: data[1] ?? "application/octet-stream", data: data[2] } };
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const mimeType = ext === undefined ? undefined : MIME_BY_EXTENSION[ext];
  return { fileData: mimeType === undefined ? { fileUri: url } : { mimeType, fileUri: url } };
}

/**
 * An assistant turn's parts: signed reasoning first (as thought parts, or a
 * bare signature on the answer's text, where Gemini put it), then the text,
 * then the function calls, each with the signature its id carries. Unsigned
 * reasoning is left out: Gemini reads nothing from thought text alone.
 */
function modelParts(m: ChatMessage): Part[] {
  const out: Part[] = [];
  const bare: string[] = [];
  for (const b of m.reasoning ?? []) {
    if (b.signature === undefined || b.signature === "") continue;
    if (b.text === "") bare.push(b.signature);
    else out.push({ text: b.text, thought: true, thoughtSignature: b.signature });
  }
  const text = texts(m.content).join("");
  if (text !== "") {
    const part: Part = { text };
    const signature = bare.shift();
    if (signature !== undefined) part.thoughtSignature = signature;
    out.push(part);
  }
  for (const signature of bare) out.push({ text: "", thoughtSignature: signature });
  const calls = (m.tool_calls ?? []).map(functionCallPart);
  // Gemini 3 refuses a turn whose first call is unsigned. A call made by another model (the
  // conversation began elsewhere) has no signature to give back: Google documents this
  // placeholder for that case, and earlier models ignore it.
  if (calls.length > 0 && calls[0].thoughtSignature === undefined) calls[0].thoughtSignature = UNSIGNED;
  out.push(...calls);
  return out;
}

/** Google's documented stand-in for a thought signature that does not exist. */
export const UNSIGNED = "skip_thought_signature_validator";

function functionCallPart(t: ToolCall): Part {
  const { signature } = splitId(t.id);
  const part: Part = { functionCall: { name: t.function.name, args: argsObject(t.function.arguments) } };
  if (signature !== undefined) part.thoughtSignature = signature;
  return part;
}

/** Arguments as the object Gemini takes; text that is no JSON object is kept under `input` rather than lost. */
function argsObject(args: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(args);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    return { input: v };
  } catch {
    return { input: args };
  }
}

/** The function a tool result answers: the name of the call with its id, earlier in the conversation. */
function toolName(m: ChatMessage, i: number, names: Map<string, string>): string {
  const id = m.tool_call_id;
  const known = id === undefined ? undefined : (names.get(id) ?? byBase(names, id));
  if (known !== undefined) return known;
  if (typeof m.name === "string" && m.name !== "") return m.name;
  throw new GatewayError("SY_ERR_BAD_REQUEST", `messages[${i}].tool_call_id names no tool call of an earlier assistant message`, { param: `messages[${i}].tool_call_id` });
}

/** A client that dropped the signature from an id still answers the same call. */
function byBase(names: Map<string, string>, id: string): string | undefined {
  const base = splitId(id).base;
  for (const [k, v] of names) if (splitId(k).base === base) return v;
  return undefined;
}

/**
 * A tool's result as the object functionResponse.response must be: a JSON
 * object as it is, anything else under `output` (Gemini's key for a
 * function's output).
 */
function toolResponse(content: ChatMessage["content"]): Record<string, unknown> {
  const text = typeof content === "string" ? content : texts(content).join("");
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    return { output: v };
  } catch {
    return { output: text };
  }
}

function callingConfig(choice: ToolChoice | undefined): Record<string, unknown> | undefined {
  if (choice === undefined) return undefined;
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "none") return { mode: "NONE" };
  if (choice === "required") return { mode: "ANY" };
  if (typeof choice === "object" && typeof choice.function?.name === "string") return { mode: "ANY", allowedFunctionNames: [choice.function.name] };
  return undefined;
}

/** OpenAI's effort levels as thinking budgets (Google's own mapping; "minimal" is the least every 2.5 model takes). */
const BUDGET: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576 };
/** Gemini 3 takes levels instead; "minimal" only on Flash, so the one level every model knows stands in for it. */
const LEVEL: Record<string, string> = { minimal: "low", low: "low", medium: "medium", high: "high" };

function generationConfig(req: ChatRequest, model: string): Record<string, unknown> {
  const g: Record<string, unknown> = {};
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (typeof max === "number") g.maxOutputTokens = max;
  if (typeof req.temperature === "number") g.temperature = req.temperature;
  if (typeof req.top_p === "number") g.topP = req.top_p;
  if (req.stop !== undefined && req.stop !== null) {
    const stops = (Array.isArray(req.stop) ? req.stop : [req.stop]).filter((s) => typeof s === "string" && s !== "");
    if (stops.length > 0) g.stopSequences = stops;
  }
  if (typeof req.seed === "number") g.seed = req.seed;
  if (typeof req.presence_penalty === "number") g.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === "number") g.frequencyPenalty = req.frequency_penalty;
  const format = req.response_format;
  if (format?.type === "json_object") g.responseMimeType = "application/json";
  else if (format?.type === "json_schema") {
    g.responseMimeType = "application/json";
    const schema = (format.json_schema as { schema?: unknown } | undefined)?.schema;
    const cleaned = cleanSchema(schema);
    if (Object.keys(cleaned).length > 0 && !(cleaned.type === "object" && cleaned.properties === undefined)) g.responseSchema = cleaned;
  }
  const effort = req.reasoning_effort as string | undefined;
  if (typeof effort === "string" && effort in BUDGET) {
    const gemini3 = /(^|\/)gemini-3/.test(model);
    if (gemini3 && effort in LEVEL) g.thinkingConfig = { thinkingLevel: LEVEL[effort], includeThoughts: true };
    else g.thinkingConfig = effort === "none" ? { thinkingBudget: 0 } : { thinkingBudget: BUDGET[effort], includeThoughts: true };
  }
  return g;
}
