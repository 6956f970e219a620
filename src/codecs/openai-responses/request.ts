import type { ChatMessage, ChatRequest, ContentPart, ReasoningBlock, ToolChoice, ToolDefinition } from "../../protocol/chat.ts";
import { GatewayError } from "../../protocol/errors.ts";

type Item = Record<string, unknown>;

function bad(param: string, message: string): GatewayError {
  return new GatewayError("SY_ERR_BAD_REQUEST", message, { param });
}

function text(content: unknown): string | ContentPart[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: ContentPart[] = [];
  for (const p of content as Item[]) {
    if ((p?.type === "input_text" || p?.type === "output_text") && typeof p.text === "string") parts.push({ type: "text", text: p.text });
    else if (p?.type === "input_image" && typeof p.image_url === "string") {
      parts.push({ type: "image_url", image_url: { url: p.image_url, ...(typeof p.detail === "string" ? { detail: p.detail } : {}) } });
    }
    // input_file, refusal and hosted-tool parts have no equivalent on a chat upstream: dropped.
  }
  return parts.length === 1 && parts[0].type === "text" ? parts[0].text : parts;
}

/** The text of a function_call_output, which may be a string or a list of content parts. */
function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  if (Array.isArray(output)) return (output as Item[]).map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
  return JSON.stringify(output ?? "");
}

/**
 * A Responses API request as the internal chat request. The gateway keeps no
 * conversation state, so `previous_response_id` and `store: true` are refused
 * here (this runs only when the target cannot pass the request through).
 * Hosted tools (web_search, file_search, computer use …) have no equivalent
 * on a chat upstream and are dropped; see docs/fronts.md.
 */
export function decodeRequest(body: Record<string, unknown>): ChatRequest {
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw bad("previous_response_id", "previous_response_id needs server-side conversation state, which this gateway does not keep for this model: send the whole conversation in input");
  }
  if (body.store === true) {
    throw bad("store", "store: true needs server-side storage, which this gateway does not keep for this model: send store: false");
  }
  const messages: ChatMessage[] = [];
  if (typeof body.instructions === "string" && body.instructions !== "") messages.push({ role: "system", content: body.instructions });
  const input = body.input;
  if (typeof input === "string") messages.push({ role: "user", content: input });
  else if (Array.isArray(input)) {
    let pendingReasoning: ReasoningBlock[] | undefined;
    const assistant = (): ChatMessage => {
      const last = messages.at(-1);
      if (last?.role === "assistant" && (last.tool_calls !== undefined || last.content !== undefined)) return last;
      const m: ChatMessage = { role: "assistant", content: null };
      if (pendingReasoning !== undefined) m.reasoning = pendingReasoning;
      pendingReasoning = undefined;
      messages.push(m);
      return m;
    };
    input.forEach((raw, i) => {
      const item = raw as Item;
      if (typeof item !== "object" || item === null) throw bad(`input[${i}]`, `input[${i}] must be an object`);
      const type = item.type ?? "message";
      if (type === "message") {
        const role = item.role;
        if (role !== "user" && role !== "assistant" && role !== "system" && role !== "developer") {
          throw bad(`input[${i}].role`, `input[${i}].role must be user, assistant, system or developer`);
        }
        if (role === "assistant") {
          const m = assistant();
          const t = text(item.content);
          m.content = typeof m.content === "string" && typeof t === "string" ? m.content + t : t;
        } else messages.push({ role, content: text(item.content) });
      } else if (type === "function_call") {
        if (typeof item.call_id !== "string" || typeof item.name !== "string") throw bad(`input[${i}]`, `input[${i}]: a function_call needs call_id and name`);
        const m = assistant();
        (m.tool_calls ??= []).push({
          id: item.call_id,
          type: "function",
          function: { name: item.name, arguments: typeof item.arguments === "string" ? item.arguments : "{}" },
        });
      } else if (type === "function_call_output") {
        if (typeof item.call_id !== "string") throw bad(`input[${i}].call_id`, `input[${i}]: a function_call_output needs call_id`);
        messages.push({ role: "tool", tool_call_id: item.call_id, content: outputText(item.output) });
      } else if (type === "reasoning") {
        const summary = Array.isArray(item.summary) ? (item.summary as Item[]).map((s) => (typeof s?.text === "string" ? s.text : "")).join("") : "";
        if (summary !== "") (pendingReasoning ??= []).push({ text: summary });
      } else if (type === "item_reference") {
        throw bad(`input[${i}]`, "item_reference needs server-side state, which this gateway does not keep for this model");
      }
      // Hosted tools' calls and outputs (web_search_call …) have no equivalent: dropped.
    });
  } else throw bad("input", "input must be a string or an array of items");
  if (messages.length === 0) throw bad("input", "input must hold at least one message");

  const req: ChatRequest = { model: String(body.model), messages };
  const tools: ToolDefinition[] = [];
  if (Array.isArray(body.tools)) {
    for (const t of body.tools as Item[]) {
      if (t?.type !== "function" || typeof t.name !== "string") continue;
      const fn: ToolDefinition["function"] = { name: t.name };
      if (typeof t.description === "string") fn.description = t.description;
      if (typeof t.parameters === "object" && t.parameters !== null) fn.parameters = t.parameters as Record<string, unknown>;
      if (typeof t.strict === "boolean") fn.strict = t.strict;
      tools.push({ type: "function", function: fn });
    }
  }
  if (tools.length > 0) req.tools = tools;
  const choice = body.tool_choice;
  if (choice === "auto" || choice === "none" || choice === "required") req.tool_choice = choice;
  else if (typeof choice === "object" && choice !== null && (choice as Item).type === "function" && typeof (choice as Item).name === "string") {
    req.tool_choice = { type: "function", function: { name: (choice as Item).name as string } } satisfies ToolChoice;
  }
  if (tools.length === 0) delete req.tool_choice;
  if (typeof body.parallel_tool_calls === "boolean" && tools.length > 0) req.parallel_tool_calls = body.parallel_tool_calls;
  if (typeof body.max_output_tokens === "number") req.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === "number") req.temperature = body.temperature;
  if (typeof body.top_p === "number") req.top_p = body.top_p;
  if (body.stream === true) req.stream = true;
  const effort = (body.reasoning as Item | undefined)?.effort;
  if (effort === "minimal" || effort === "low" || effort === "medium" || effort === "high") req.reasoning_effort = effort;
  const format = ((body.text as Item | undefined)?.format ?? undefined) as Item | undefined;
  if (format?.type === "json_schema") {
    req.response_format = { type: "json_schema", json_schema: { name: format.name ?? "response", schema: format.schema, strict: format.strict } };
  } else if (format?.type === "json_object") req.response_format = { type: "json_object" };
  if (typeof body.user === "string") req.user = body.user;
  // metadata, include, store: false, prompt_cache_key, safety_identifier, service_tier, truncation: nothing to map to.
  return req;
}
