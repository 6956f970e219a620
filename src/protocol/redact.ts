/** Shapes of provider keys that upstreams sometimes echo back in error messages. */
const KEY_SHAPES = /\b(sk|pk|rk|sess|key|hf|gsk|xai|r8)[-_][A-Za-z0-9_\-*.]{6,}/g;

/**
 * Removes secrets from text that may reach a client, a log or a health page:
 * every configured key verbatim, and anything shaped like a provider key.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4 && out.includes(s)) out = out.split(s).join("[redacted]");
  }
  return out.replace(KEY_SHAPES, "[redacted]");
}
