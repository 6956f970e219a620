/**
 * Request bodies. Each is padded to an exact size so that "1 KB" and
 * "100 KB" mean the bytes on the wire, and the model name is always five
 * characters long so that cycling models does not change the size.
 */

/** A chat request of exactly `bytes` bytes (at least ~120). */
export function chatBody(model: string, stream: boolean, bytes: number): string {
  const shell = (pad: string) =>
    JSON.stringify({ model, stream, messages: [{ role: "user", content: `Say hello. ${pad}` }] });
  const base = Buffer.byteLength(shell(""));
  const padLength = Math.max(0, bytes - base);
  // A repeating pattern of plain ASCII words: no JSON escaping, so length is exact.
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit ";
  const pad = words.repeat(Math.ceil(padLength / words.length)).slice(0, padLength);
  return shell(pad);
}

export const KB = 1024;
