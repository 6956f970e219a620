import assert from "node:assert/strict";
import { ConfigError, resolveConfig } from "../../src/config/index.ts";

/** The example from the config documentation, verbatim. */
export const EXAMPLE_YAML = `
server: { host: 127.0.0.1, port: 4000, max_body: 10mb, log_level: info, workers: 1 }
defaults:
  timeouts: { connect: 10s, first_byte: 60s, idle: 30s, total: 10m }
  pool: { connections: 100, keepalive_timeout: 5m, http2: false }
  retry: { attempts: 3, base_delay: 250ms, max_delay: 8s }
providers:
  primary:
    type: openai
    base_url: http://127.0.0.1:9001/v1
    api_key: \${PRIMARY_KEY}
    headers: { X-Extra: value }
    timeouts: { connect: 10s, first_byte: 60s, idle: 30s, total: 10m }
    pool: { connections: 100, keepalive_timeout: 5m, http2: false }
  backup:
    type: openai
    base_url: http://127.0.0.1:9002/v1
    api_key: \${BACKUP_KEY:-none}
models:
  chat:
    targets:
      - { provider: primary, model: gpt-4o-mini }
      - { provider: backup,  model: gpt-4o-mini, priority: 1, weight: 1 }
      - backup/gpt-4o
    retry: { attempts: 3, base_delay: 1s, max_delay: 8s }
    fallbacks: [chat-small]
  chat-small:
    targets: [ { provider: backup, model: tiny } ]
`;

/** A minimal valid config to break one piece at a time. */
export function minimal(): Record<string, any> {
  return {
    providers: { openai: { type: "openai", base_url: "https://api.example.com/v1" } },
    models: { chat: { targets: [{ provider: "openai", model: "gpt-4o-mini" }] } },
  };
}

/** The problems resolveConfig reports for `raw`; fails when it doesn't throw a ConfigError. */
export function problemsOf(raw: unknown, env: Record<string, string | undefined> = {}): string[] {
  try {
    resolveConfig(raw, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail("expected resolveConfig to throw");
}
