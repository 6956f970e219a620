/**
 * A local OTLP/HTTP trace receiver: what a collector is to the gateway's
 * exporter. It takes `POST /v1/traces` in OTLP's JSON encoding and keeps
 * every span it was sent, flattened, with its attributes as a plain object.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's enum: 2 server, 3 client. */
  kind: number;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  /** The resource's attributes (service.name …). */
  resource: Record<string, string | number | boolean>;
  startMs: number;
  endMs: number;
}

export interface OtlpReceiver {
  /** The endpoint to configure (without /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  /** The headers of every export request. */
  requests: IncomingMessage["headers"][];
  /** While set, exports are refused with this status (and their spans not kept). */
  refuseWith: number | undefined;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

function plain(kvs: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of kvs ?? []) {
    out[key] = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? "" : Number(value.intValue));
  }
  return out;
}

const nanosToMs = (v: string | number) => Number(BigInt(v) / 1_000_000n);

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: IncomingMessage["headers"][] = [];
  const receiver: OtlpReceiver = {
    url: "",
    spans,
    requests,
    refuseWith: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces" || !String(req.headers["content-type"]).startsWith("application/json")) {
        res.writeHead(404).end();
        return;
      }
      requests.push(req.headers);
      if (receiver.refuseWith !== undefined) {
        res.writeHead(receiver.refuseWith, { "content-type": "application/json" }).end('{"message":"refused by the test"}');
        return;
      }
      const raw = Buffer.concat(chunks);
      const body = JSON.parse((req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8"));
      for (const rs of body.resourceSpans ?? []) {
        const resource = plain(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? "",
              name: s.name,
              kind: s.kind,
              status: s.status ?? { code: 0 },
              attributes: plain(s.attributes),
              resource,
              startMs: nanosToMs(s.startTimeUnixNano),
              endMs: nanosToMs(s.endTimeUnixNano),
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}`;
  return receiver;
}
