import type { ServerResponse } from "node:http";

/** Resolves when the socket can take more, or when the client has gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes a byte stream to the client with backpressure; a client that leaves ends the loop. */
export async function writeStream(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  stream: AsyncIterable<Uint8Array>,
): Promise<void> {
  res.writeHead(status, headers);
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      if (res.destroyed) break;
      if (!res.write(r.value)) await drained(res);
    }
  } finally {
    await it.return?.();
    if (!res.destroyed) res.end();
  }
}
