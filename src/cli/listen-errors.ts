/**
 * Turns the errors Node raises when a server cannot bind into one line a
 * person can act on, instead of the raw `listen EADDRINUSE: ...`.
 */

interface BindError {
  code?: unknown;
  message?: unknown;
}

const HINTS: Record<string, string> = {
  EADDRINUSE: "the address is already in use; choose another with --port (or server.port), or stop the process using it",
  EACCES: "permission denied (ports below 1024 need privileges); choose another with --port (or server.port)",
  EADDRNOTAVAIL: "the address is not one of this machine's; choose another with --host (or server.host)",
  ENOTFOUND: "the host name does not resolve; choose another with --host (or server.host)",
};

/** A worker thread's error arrives as a copy that may have lost `code`; its message still names it. */
function codeOf(err: BindError): string | undefined {
  if (typeof err.code === "string" && err.code in HINTS) return err.code;
  const named = typeof err.message === "string" ? /\b(E[A-Z]+)\b/.exec(err.message)?.[1] : undefined;
  return named !== undefined && named in HINTS ? named : undefined;
}

/** The line to print for a failed bind, or undefined when `err` is something else. */
export function listenProblem(err: unknown, host: string, port: number): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = codeOf(err as BindError);
  if (code === undefined) return undefined;
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return `cannot listen on ${address}: ${HINTS[code]}`;
}
