/** An http(s) URL without trailing slashes, or undefined when `v` isn't one. */
export function normaliseBaseUrl(v: string): string | undefined {
  const trimmed = v.trim();
  if (!URL.canParse(trimmed)) return undefined;
  const { protocol } = new URL(trimmed);
  if (protocol !== "http:" && protocol !== "https:") return undefined;
  return trimmed.replace(/\/+$/, "");
}
