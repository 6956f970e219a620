/**
 * What the mock's Chat Completions answer holds besides text, so that
 * translation has something real to translate: tool calls when the request
 * offers tools and its last message is not a tool result (arguments made
 * from each tool's JSON schema), a text that quotes the tool result when it
 * is, and `reasoning_content` when `x-mock-reasoning: 1` asks for it.
 * Pure functions; openai-wire.ts writes the result as OpenAI does.
 */
import type { Problem } from "./checks.ts";

type Obj = Record<string, unknown>;

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as OpenAI sends them: a JSON string. */
  arguments: string;
}

/** The parts of one chat answer. */
export interface ChatPlan {
  /** Text tokens; empty when the answer calls tools. */
  tokens: string[];
  toolCalls: ToolCall[];
  /** Reasoning tokens, sent before the answer; empty unless asked for. */
  reasoning: string[];
}

export const MAX_TOOL_CALLS = 16;
/** How deep argument objects are built from nested schemas; deeper ones are left empty. */
const MAX_SCHEMA_DEPTH = 8;
/** The longest tool result the reply quotes. */
const MAX_QUOTE = 1000;

export const REASONING = ["Let", " me", " think", " about", " this", " step", " by", " step."];

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const bad = (message: string, param: string | null, code: string): Problem => ({ status: 400, message, param, code });

/** A value for a schema: string "x", number 1, boolean true, enums their first value, objects their required properties. */
function sample(schema: unknown, depth: number): unknown {
  const s = isObj(schema) ? schema : {};
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "string":
      return "x";
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "null":
      return null;
    case "object":
      return argumentsFor(s, depth + 1);
    default:
      return "x";
  }
}

/** The arguments a call to a tool with this parameters schema gets: its required properties, each a sample value. */
export function argumentsFor(schema: unknown, depth = 0): Obj {
  const out: Obj = {};
  if (!isObj(schema) || depth >= MAX_SCHEMA_DEPTH) return out;
  const props = isObj(schema.properties) ? schema.properties : {};
  for (const name of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof name === "string") out[name] = sample(props[name], depth);
  }
  return out;
}

/** The text of a tool message's content: a string, or the text of its parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return JSON.stringify(content ?? null);
  return content.map((p) => (isObj(p) && typeof p.text === "string" ? p.text : "")).join("");
}

/** Words with their leading spaces, as a model's tokens come. */
function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

interface Tool {
  name: string;
  parameters: unknown;
}

/** The request's tools, or the first problem OpenAI would refuse them for. */
function toolsOf(body: Obj): Tool[] | Problem {
  const tools = body.tools;
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) return bad("Invalid type for 'tools': expected an array, but got something else.", "tools", "invalid_type");
  const out: Tool[] = [];
  for (const [i, t] of tools.entries()) {
    const fn = isObj(t) ? t.function : undefined;
    if (!isObj(t) || t.type !== "function" || !isObj(fn) || typeof fn.name !== "string" || fn.name === "") {
      return bad(`Missing required parameter: 'tools[${i}].function.name'.`, `tools[${i}].function.name`, "missing_required_parameter");
    }
    out.push({ name: fn.name, parameters: fn.parameters });
  }
  return out;
}

/** How many parallel calls `x-mock-tool-calls` asks for (1 when it is not sent). */
function callCount(raw: string | undefined): number | Problem {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < 1 || n > MAX_TOOL_CALLS) {
    return bad(`Header x-mock-tool-calls must be an integer from 1 to ${MAX_TOOL_CALLS}, got '${raw}'.`, null, "mock_bad_header");
  }
  return n;
}

function wantsReasoning(raw: string | undefined): boolean | Problem {
  if (raw === undefined || raw === "0" || raw === "false") return false;
  if (raw === "1" || raw === "true") return true;
  return bad(`Header x-mock-reasoning must be 1 or 0, got '${raw}'.`, null, "mock_bad_header");
}

/**
 * What to answer a chat request with. `text` makes the ordinary reply (the
 * mock's own tokens); tools and the `x-mock-*` headers decide the rest.
 */
export function chatPlan(body: Obj, header: (name: string) => string | undefined, rid: string, text: () => string[]): ChatPlan | Problem {
  const reasoningWanted = wantsReasoning(header("x-mock-reasoning"));
  if (typeof reasoningWanted !== "boolean") return reasoningWanted;
  const reasoning = reasoningWanted ? REASONING : [];
  const tools = toolsOf(body);
  if (!Array.isArray(tools)) return tools;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const last = messages.at(-1);
  if (isObj(last) && last.role === "tool") {
    const quote = textOf(last.content);
    const shown = quote.length > MAX_QUOTE ? `${quote.slice(0, MAX_QUOTE)}…` : quote;
    return { tokens: words(`The tool returned: ${shown}`), toolCalls: [], reasoning };
  }
  const choice = body.tool_choice;
  if (tools.length === 0 || choice === "none") return { tokens: text(), toolCalls: [], reasoning };
  let named: Tool | undefined;
  if (isObj(choice)) {
    const name = isObj(choice.function) ? choice.function.name : undefined;
    named = tools.find((t) => t.name === name);
    if (named === undefined) {
      return bad(`Invalid value for 'tool_choice': no function named '${String(name)}' was specified in the 'tools' parameter.`, "tool_choice", "invalid_value");
    }
  }
  // x-mock-tool picks the tool (a coding agent offers dozens), x-mock-tool-args its arguments.
  named ??= tools.find((t) => t.name === header("x-mock-tool"));
  const fixed = header("x-mock-tool-args");
  if (fixed !== undefined) {
    try {
      if (!isObj(JSON.parse(fixed))) throw new Error("not an object");
    } catch {
      return bad(`Header x-mock-tool-args must be a JSON object, got '${fixed.slice(0, 100)}'.`, null, "mock_bad_header");
    }
  }
  const asked = callCount(header("x-mock-tool-calls"));
  if (typeof asked !== "number") return asked;
  const count = body.parallel_tool_calls === false ? 1 : asked;
  const base = rid.replaceAll("-", "").slice(0, 20);
  const toolCalls = Array.from({ length: count }, (_, i): ToolCall => {
    const tool = named ?? tools[i % tools.length];
    return { id: `call_${base}_${i}`, name: tool.name, arguments: fixed ?? JSON.stringify(argumentsFor(tool.parameters)) };
  });
  return { tokens: [], toolCalls, reasoning };
}

/** A tool call's arguments in a few pieces, as OpenAI streams them. */
export function argumentPieces(args: string): string[] {
  const size = Math.max(1, Math.ceil(args.length / 4));
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out.length > 0 ? out : [""];
}
