import type { ServerResponse } from "node:http";
import { constants, createBrotliCompress, createDeflate, createGzip, type Gzip } from "node:zlib";
import type { ByteSink } from "../engine/types.ts";
import type { Encoding } from "./compress.ts";
import type { ErrorShape } from "./shapes.ts";

function compressor(encoding: Encoding): Gzip {
  if (encoding === "gzip") return createGzip({ level: 5 });
  if (encoding === "deflate") return createDeflate({ level: 5 });
  return createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }) as unknown as Gzip;
}

/**
 * A client response as a sink that compresses (server.compression.streams).
 * Each event is flushed through the compressor as it is written, so the
 * client sees it at once instead of when a compression block fills.
 */
export function compressedSink(res: ServerResponse, encoding: Encoding, shape: ErrorShape): ByteSink {
  const z = compressor(encoding);
  const flushMode = encoding === "br" ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH;
  z.on("data", (d: Buffer) => {
    if (!res.destroyed) res.write(d);
  });
  z.on("end", () => {
    if (!res.destroyed && !res.writableEnded) res.end();
  });
  z.on("error", () => res.destroy());
  res.once("close", () => z.destroy());
  const finish = () => {
    if (!z.writableEnded) z.end();
  };
  return {
    write(chunk) {
      z.write(chunk);
      z.flush(flushMode);
      return !res.writableNeedDrain;
    },
    end: finish,
    fail(err) {
      if (res.destroyed || z.writableEnded) return;
      z.write(shape.event(err));
      finish();
    },
    get closed() {
      return res.destroyed;
    },
    onDrain(fn) {
      if (res.destroyed) return fn();
      const once = () => {
        res.off("drain", once);
        res.off("close", once);
        fn();
      };
      res.on("drain", once);
      res.on("close", once);
    },
    onClose(fn) {
      res.once("close", () => {
        if (!res.writableFinished) fn();
      });
    },
  };
}
