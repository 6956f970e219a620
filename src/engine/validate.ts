import { GatewayError } from "../protocol/errors.ts";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "../protocol/json-depth.ts";
import type { Operation } from "../providers/types.ts";

/** Longest accepted model name, in characters (all ASCII, so also bytes). */
export const MAX_MODEL_NAME = 256;
const MODEL_NAME = /^[\x21-\x7e]+$/;

/** The name is echoed in a response header and may become a cached route: keep it short and plain. */
export function checkModelName(name: string): void {
  if (name.length > MAX_MODEL_NAME || !MODEL_NAME.test(name)) {
    throw bad(
      "model",
      name.length > MAX_MODEL_NAME
        ? `model name is ${name.length} characters long; at most ${MAX_MODEL_NAME} are allowed`
        : "model name may hold only visible ASCII characters (no spaces, control characters or non-ASCII letters)",
    );
  }
}

function bad(param: string, message: string): GatewayError {
  return new GatewayError("SY_ERR_BAD_REQUEST", message, { param });
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/**
 * Checks the fields the gateway itself relies on, naming the first bad one.
 * Everything else is the upstream's to judge: it passes through untouched.
 */
export function validateRequest(op: Operation, body: unknown): asserts body is Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw bad("body", `request body must be a JSON object, got ${typeName(body)}`);
  }
  const b = body as Record<string, unknown>;
  if (b.model === undefined) throw bad("model", "missing required field: model");
  if (typeof b.model !== "string" || b.model === "") {
    throw bad("model", `model must be a non-empty string, got ${typeName(b.model)}`);
  }
  checkModelName(b.model);
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== "boolean") {
    throw bad("stream", `stream must be a boolean, got ${typeName(b.stream)}`);
  }
  for (const field of ["max_tokens", "max_completion_tokens", "n"]) {
    const v = b[field];
    if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isInteger(v) || v < 1)) {
      throw bad(field, `${field} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  for (const field of ["temperature", "top_p"]) {
    const v = b[field];
    if (v !== undefined && v !== null && typeof v !== "number") {
      throw bad(field, `${field} must be a number, got ${typeName(v)}`);
    }
  }
  if (nestedDeeperThan(b, MAX_JSON_DEPTH)) {
    throw bad("body", `request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  }
  if (op === "chat" || op === "messages") validateMessages(b.messages);
  else if (op === "responses") {
    if (b.input === undefined) throw bad("input", "missing required field: input");
    if (typeof b.input !== "string" && !Array.isArray(b.input)) {
      throw bad("input", `input must be a string or an array of items, got ${typeName(b.input)}`);
    }
    const max = b.max_output_tokens;
    if (max !== undefined && max !== null && (typeof max !== "number" || !Number.isInteger(max) || max < 1)) {
      throw bad("max_output_tokens", `max_output_tokens must be a positive integer, got ${JSON.stringify(max)}`);
    }
  } else if (op === "completions") {
    if (b.prompt === undefined) throw bad("prompt", "missing required field: prompt");
    if (typeof b.prompt !== "string" && !Array.isArray(b.prompt)) {
      throw bad("prompt", `prompt must be a string or an array, got ${typeName(b.prompt)}`);
    }
  } else if (op === "embeddings") {
    if (b.input === undefined) throw bad("input", "missing required field: input");
    if (typeof b.input !== "string" && !(Array.isArray(b.input) && b.input.length > 0)) {
      throw bad("input", `input must be a string or a non-empty array, got ${typeName(b.input)}`);
    }
    if (b.stream === true) throw bad("stream", "embeddings cannot be streamed");
  }
}

function validateMessages(messages: unknown): void {
  if (messages === undefined) throw bad("messages", "missing required field: messages");
  if (!Array.isArray(messages)) throw bad("messages", `messages must be an array, got ${typeName(messages)}`);
  if (messages.length === 0) throw bad("messages", "messages must contain at least one message");
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as unknown;
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw bad(`messages[${i}]`, `messages[${i}] must be an object, got ${typeName(m)}`);
    }
    const role = (m as Record<string, unknown>).role;
    if (typeof role !== "string" || role === "") {
      throw bad(`messages[${i}].role`, `messages[${i}].role must be a non-empty string, got ${typeName(role)}`);
    }
  }
}
