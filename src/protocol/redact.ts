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

/** Longest upstream error message passed on; cut only after redaction, so no half of a secret survives. */
export const MAX_ERROR_MESSAGE = 500;

/** Redacts, then cuts to `max` characters. In that order: a secret cut in half would no longer be recognised. */
export function redactClip(text: string, secrets: readonly string[], max = MAX_ERROR_MESSAGE): string {
  const clean = redact(text, secrets);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Cleans every string of an error that goes back to a client, a log or a
 * health page: the message and what the upstream called the error (its
 * type, code and param come from the upstream's body, and a careless
 * upstream echoes request headers into them).
 */
export function redactError<E extends { message: string; upstream?: { type?: string; code?: string; param?: string } }>(
  err: E,
  secrets: readonly string[],
): E {
  err.message = redactClip(err.message, secrets);
  const u = err.upstream;
  if (u !== undefined) {
    if (u.type !== undefined) u.type = redactClip(u.type, secrets, 100);
    if (u.code !== undefined) u.code = redactClip(u.code, secrets, 100);
    if (u.param !== undefined) u.param = redactClip(u.param, secrets, 200);
  }
  return err;
}

/** Header names whose values are credentials. */
const SECRET_HEADER = /auth|key|token|secret|cookie|password/i;

/** Every credential a provider is configured with: its key and credential-like header values. */
export function providerSecrets(providers: Iterable<{ apiKey?: string; apiKeys?: string[]; headers: Record<string, string> }>): string[] {
  const out = new Set<string>();
  for (const p of providers) {
    if (p.apiKey) out.add(p.apiKey);
    for (const k of p.apiKeys ?? []) if (k) out.add(k);
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
