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

/** Header names whose values are credentials. */
const SECRET_HEADER = /auth|key|token|secret|cookie|password/i;

/** Every credential a provider is configured with: its key and credential-like header values. */
export function providerSecrets(providers: Iterable<{ apiKey?: string; headers: Record<string, string> }>): string[] {
  const out = new Set<string>();
  for (const p of providers) {
    if (p.apiKey) out.add(p.apiKey);
    for (const [name, value] of Object.entries(p.headers)) {
      if (!SECRET_HEADER.test(name) || !value) continue;
      out.add(value);
      const bearer = /^\s*(bearer|basic|token)\s+(.+)$/i.exec(value);
      if (bearer) out.add(bearer[2].trim());
    }
  }
  // Longest first, so a value is never partly replaced by a shorter one it contains.
  return [...out].sort((a, b) => b.length - a.length);
}
