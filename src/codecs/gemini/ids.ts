/**
 * Tool call ids for Gemini's function calls.
 *
 * Gemini mostly gives a call no id, while a client must send one back with
 * the call's result, so one is made from what is stable in the answer (its
 * responseId and the call's place in it): decoding the same answer again,
 * streamed or not, gives the same ids.
 *
 * Gemini 3 signs a function call (`thoughtSignature` on its part) and refuses
 * the next turn unless the signature comes back on that same part. OpenAI
 * clients keep nothing of a tool call but its id, name and arguments, so the
 * signature travels inside the id, base64url-encoded after a separator: the
 * id stays within the characters every provider allows in tool call ids.
 */
import { createHash } from "node:crypto";

const SEPARATOR = "__sig_";

/** A stable id for the call at `index` (0-based, in the answer's order) of an answer. */
export function callId(responseId: string | undefined, index: number, name: string, args: unknown): string {
  const rid = typeof responseId === "string" ? responseId.replace(/[^A-Za-z0-9-]/g, "") : "";
  if (rid !== "") return `call_${rid}_${index}`;
  // No responseId to go by: what the call says is what stays the same.
  const digest = createHash("sha256").update(JSON.stringify([index, name, args ?? {}])).digest("hex");
  return `call_${digest.slice(0, 24)}`;
}

/** The id a client sees: `base`, with the call's signature when it has one. */
export function withSignature(base: string, signature: string | undefined): string {
  if (signature === undefined || signature === "") return base;
  return `${base}${SEPARATOR}${signature.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

/** A client's tool call id split back into its base and the signature it carries (standard base64). */
export function splitId(id: string): { base: string; signature?: string } {
  const at = id.indexOf(SEPARATOR);
  if (at === -1) return { base: id };
  const url = id.slice(at + SEPARATOR.length);
  if (url === "") return { base: id.slice(0, at) };
  const std = url.replaceAll("-", "+").replaceAll("_", "/");
  return { base: id.slice(0, at), signature: std + "=".repeat((4 - (std.length % 4)) % 4) };
}
