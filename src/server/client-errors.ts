import type { Socket } from "node:net";
import { type ErrorCode, GatewayError } from "../protocol/errors.ts";
import { openaiErrorBody } from "./errors.ts";

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/** What Node's HTTP parser (llhttp) reports, in words a client can act on. */
function describe(err: NodeJS.ErrnoException & { reason?: unknown }): { code: ErrorCode; message: string } {
  switch (err.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        code: "SY_ERR_REQUEST_TIMEOUT",
        message: "the request was not received in time (server.timeouts.headers / server.timeouts.body)",
      };
    case "HPE_HEADER_OVERFLOW":
      return { code: "SY_ERR_HEADERS_TOO_LARGE", message: "request headers are too large (16 KB at most)" };
    case "HPE_INVALID_METHOD":
      return { code: "SY_ERR_BAD_HTTP", message: "malformed HTTP request: unknown method" };
    case "HPE_INVALID_VERSION":
      return { code: "SY_ERR_BAD_HTTP", message: "malformed HTTP request: unsupported HTTP version (use HTTP/1.1)" };
  }
  // llhttp's reasons are its own fixed texts ("Invalid character in chunk size"), never the client's bytes.
  const reason = typeof err.reason === "string" ? `: ${err.reason}` : "";
  return { code: "SY_ERR_BAD_HTTP", message: `malformed HTTP request${reason}` };
}

/**
 * The server's `clientError` handler: a request the parser refused, or one
 * that took too long to arrive, gets an OpenAI-shaped JSON answer and the
 * connection is closed. Only when no response is under way on the socket,
 * or the answer would land inside it. `extraHead`: more header lines, each
 * ending in CRLF (a worker's name).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket, extraHead = ""): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent || err.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const { code, message } = describe(err);
  const e = new GatewayError(code, message);
  const body = openaiErrorBody(e);
  socket.end(
    `HTTP/1.1 ${e.status} ${REASONS[e.status] ?? "Bad Request"}\r\nconnection: close\r\ncontent-type: application/json\r\n${extraHead}` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
