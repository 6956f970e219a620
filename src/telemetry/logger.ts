import { pino } from "pino";
import type { Logger } from "./log.ts";

/**
 * JSON logs on stdout. Authorization headers and keys are redacted by path in
 * case anything ever logs them; the engine itself never passes them in.
 */
export function createLogger(level: string): Logger & { level: string } {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: ["authorization", "*.authorization", "headers.authorization", "*.headers.authorization", "apiKey", "*.apiKey", "api_key", "*.api_key"],
      censor: "[redacted]",
    },
  });
}
