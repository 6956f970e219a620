const BOUNDARY = Buffer.from("\n\n");
const MAX_CARRY = 64 * 1024;

/**
 * Finds, in a stream passing through, the data lines that hold `mark`, and
 * hands each one's parsed JSON to `onEvent`. Chunks without the mark cost one
 * native scan each; a chunk's unfinished last event is carried over, so an
 * event split across chunks is still found. The bytes themselves are never
 * changed: this only reads.
 */
export function dataLineScanner(mark: string, onEvent: (ev: unknown) => void): (chunk: Uint8Array) => void {
  const needle = Buffer.from(mark);
  let carry: Buffer | undefined;
  return (chunk) => {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const text = carry === undefined ? b : Buffer.concat([carry, b]);
    const cut = text.lastIndexOf(BOUNDARY);
    const whole = cut === -1 ? text.subarray(0, 0) : text.subarray(0, cut + 2);
    const tail = cut === -1 ? text : text.subarray(cut + 2);
    carry = tail.length === 0 || tail.length > MAX_CARRY ? undefined : Buffer.from(tail);
    if (whole.indexOf(needle) === -1) return;
    for (const line of whole.toString("utf8").split("\n")) {
      if (!line.startsWith("data:") || !line.includes(mark)) continue;
      try {
        onEvent(JSON.parse(line.slice(5)));
      } catch {
        // not an event we can read: the client sees it as it is
      }
    }
  };
}
