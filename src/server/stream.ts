import type { ServerResponse } from "node:http";
import type { ByteSink, ByteStream } from "../engine/types.ts";

/** A client response as a sink for a relayed stream. */
function sinkFor(res: ServerResponse): ByteSink {
  return {
    write: (chunk) => res.write(chunk),
    end: () => {
      if (!res.destroyed && !res.writableEnded) res.end();
    },
    get closed() {
      return res.destroyed;
    },
    onDrain: (fn) => {
      if (res.destroyed) return fn();
      const once = () => {
        res.off("drain", once);
        res.off("close", once);
        fn();
      };
      res.on("drain", once);
      res.on("close", once);
    },
    onClose: (fn) => {
      res.once("close", () => {
        if (!res.writableFinished) fn();
      });
    },
  };
}

/** Writes a byte stream to the client with backpressure; a client that leaves ends it (and the upstream call). */
export function writeStream(res: ServerResponse, status: number, headers: Record<string, string | number>, stream: ByteStream): Promise<void> {
  res.writeHead(status, headers);
  return stream.pipeTo(sinkFor(res));
}
