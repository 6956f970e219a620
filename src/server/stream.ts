import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { ByteSink, ByteStream } from "../engine/types.ts";
import type { CompressionConfig } from "../config/types.ts";
import { negotiate } from "./compress.ts";
import { compressedSink } from "./compressed-sink.ts";
import type { ErrorShape } from "./shapes.ts";

const CRLF = 0x0d0a;

/** One HTTP/1.1 chunk (size line, data, CRLF) in a single buffer. */
function frame(chunk: Uint8Array): Buffer {
  const size = chunk.byteLength.toString(16);
  const out = Buffer.allocUnsafe(size.length + 4 + chunk.byteLength);
  out.write(size, 0, "latin1");
  out.writeUInt16BE(CRLF, size.length);
  out.set(chunk, size.length + 2);
  out.writeUInt16BE(CRLF, out.length - 2);
  return out;
}

function onceEither(emitter: ServerResponse | Socket, a: string, b: string, fn: () => void): void {
  const once = () => {
    emitter.off(a, once);
    emitter.off(b, once);
    fn();
  };
  emitter.on(a, once);
  emitter.on(b, once);
}

/**
 * A client response as a sink for a relayed stream. Once the head is on the
 * wire and this response owns its socket, chunks are framed here and written
 * to the socket in one call each: Node's own chunked writes cost a cork, a
 * tick and a three-buffer writev per chunk. `res.end()` still writes the last
 * chunk and finishes the response, so keep-alive works as usual.
 */
function sinkFor(res: ServerResponse, socket: Socket | null, shape: ErrorShape): ByteSink {
  const write = socket === null ? (chunk: Uint8Array) => res.write(chunk) : (chunk: Uint8Array) => socket.write(frame(chunk));
  return {
    write,
    end: () => {
      if (!res.destroyed && !res.writableEnded) res.end();
    },
    fail: (err) => {
      if (res.destroyed || res.writableEnded) return;
      write(shape.event(err));
      res.end();
    },
    get closed() {
      return res.destroyed;
    },
    onDrain: (fn) => {
      if (res.destroyed) return fn();
      if (socket === null) onceEither(res, "drain", "close", fn);
      else onceEither(socket, "drain", "close", fn);
    },
    onClose: (fn) => {
      res.once("close", () => {
        if (!res.writableFinished) fn();
      });
    },
  };
}

/**
 * Writes a byte stream to the client with backpressure; a client that leaves
 * ends it (and the upstream call). A stream that fails ends with one
 * error event in the client API's shape.
 */
export function writeStream(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  stream: ByteStream,
  shape: ErrorShape,
  compression?: CompressionConfig,
): Promise<void> {
  const http11 = res.req.httpVersionMajor === 1 && res.req.httpVersionMinor === 1;
  const encoding = compression?.streams === true ? negotiate(res.req) : undefined;
  if (encoding !== undefined) {
    headers["content-encoding"] = encoding;
    const vary = res.getHeader("vary");
    headers.vary = vary === undefined ? "Accept-Encoding" : `${String(vary)}, Accept-Encoding`;
    res.writeHead(status, headers);
    res.flushHeaders();
    return stream.pipeTo(compressedSink(res, encoding, shape));
  }
  if (http11) headers["transfer-encoding"] = "chunked";
  res.writeHead(status, headers);
  res.flushHeaders();
  // Direct writes only when the head has gone out on a socket this response owns (not queued behind a pipelined one).
  const socket = http11 && res.socket !== null && res.writableLength === 0 ? res.socket : null;
  return stream.pipeTo(sinkFor(res, socket, shape));
}
