import { type DestinationStream, destination as fdDestination, pino } from "pino";
import PinoPretty from "pino-pretty";
import type { GatewayConfig } from "../config/types.ts";
import { providerSecrets, redact } from "../protocol/redact.ts";
import type { Logger } from "./log.ts";

export interface LoggerOptions {
  /** json (default): one JSON object per line; pretty: readable lines for a terminal. */
  format?: "json" | "pretty";
  /** Credentials that must never appear in a line (provider keys, gateway keys): replaced wherever they occur. */
  secrets?: readonly string[];
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
}

/**
 * Credentials by field name, in case anything ever logs an object holding
 * them (the engine itself never passes them in): Authorization headers, the
 * usual API-key headers and config fields, one and two levels deep.
 */
const REDACT_PATHS = ["authorization", "api-key", "x-api-key", "x-goog-api-key", "apiKey", "apiKeys", "api_key", "api_keys", "key", "keys"].flatMap((k) => {
  const p = /^[\w]+$/.test(k) ? k : `["${k}"]`;
  const dot = p.startsWith("[") ? "" : ".";
  return [p, `*${dot}${p}`, `headers${dot}${p}`, `*.headers${dot}${p}`];
});

/** Credentials in running text: a bearer or basic token, whatever carried it. */
const TOKEN = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * The last line of defence: every line, just before it is written, loses
 * the configured secrets, anything shaped like a provider key, and bearer
 * tokens (protocol/redact.ts does the same for error messages at the source).
 */
export function scrubLine(line: string, secrets: readonly string[]): string {
  return redact(line, secrets).replace(TOKEN, "$1 [redacted]");
}

/**
 * Logs on stdout (JSON lines, or pretty ones for a terminal), written
 * asynchronously so that a request never waits on the terminal or the pipe;
 * pino flushes what is pending when the process exits.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger & { level: string } {
  const secrets = options.secrets ?? [];
  const destination =
    options.format === "pretty"
      ? PinoPretty({ colorize: options.destination === undefined && process.stdout.isTTY === true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", singleLine: true, destination: options.destination ?? 1 })
      : (options.destination ?? fdDestination({ dest: 1, sync: false }));
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      hooks: { streamWrite: (s) => scrubLine(s, secrets) },
    },
    destination,
  );
}

/** The logger a config asks for: its level and format, and its provider and gateway keys kept out of every line. */
export function loggerFor(config: GatewayConfig, destination?: DestinationStream): Logger & { level: string } {
  const secrets = [...providerSecrets(Object.values(config.providers)), ...config.server.auth.keys.map((k) => k.key)].sort((a, b) => b.length - a.length);
  return createLogger(config.server.logLevel, { format: config.server.logFormat, secrets, destination });
}
