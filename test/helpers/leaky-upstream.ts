import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A key no key-shaped pattern matches: only the configured secret can redact it. */
export const CANARY = "canary-7f3a9c1e5b2d";

export const chunkEvent = (text: string) =>
  `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}\n\n`;

/** The careless upstream's error event: its key in every field. */
export const leakyErrorEvent =
  `data: {"error":{"message":"Incorrect API key provided: Bearer ${CANARY}","type":"auth ${CANARY}",` +
  `"code":"bad_key_${CANARY}","param":"${CANARY}","status":401}}\n\n`;

export interface LeakyUpstream {
  url: string;
  /** Resolves with true when the gateway closed the request before the upstream ended it. */
  closed(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * An upstream that streams two chunks and then, mid-stream and in the same
 * write as the second, an error event echoing the caller's key; it then holds
 * the response open, so only the gateway aborting it ends the request.
 */
export async function startLeakyUpstream(): Promise<LeakyUpstream> {
  let closed: Promise<boolean> = new Promise(() => {});
  const server: Server = createServer(async (req, res) => {
    for await (const _ of req);
    closed = once(res, "close").then(() => !res.writableEnded);
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(chunkEvent("one"));
    await new Promise<void>((r) => setImmediate(r));
    res.write(chunkEvent("two") + leakyErrorEvent + chunkEvent("three"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    closed: () => closed,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
