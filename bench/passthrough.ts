/**
 * Byte-identical passthrough check: fetch the same request directly from the
 * mock and through each target, blank the fields the mock randomises (the
 * completion id and the `created` timestamp, both fixed-width), and compare
 * the bodies byte for byte.
 */
import { request } from "undici";
import { chatBody, KB } from "./bodies.ts";
import type { Flavour } from "./flavours.ts";
import type { PassthroughCheck } from "./result-types.ts";
import type { Target } from "./targets.ts";

const VOLATILE: [RegExp, string][] = [
  [/"id":"(chatcmpl|cmpl)-[0-9a-f-]{36}"/g, '"id":"$1-00000000-0000-0000-0000-000000000000"'],
  [/"created":\d{10}/g, '"created":0000000000'],
];

function normalise(body: Buffer): string {
  let text = body.toString("latin1");
  for (const [re, to] of VOLATILE) text = text.replace(re, to);
  return text;
}

async function fetchBody(t: Target, f: Flavour, stream: boolean): Promise<Buffer> {
  const res = await request(t.url(f), {
    method: "POST",
    headers: { "content-type": "application/json", ...t.headers(f) },
    body: chatBody(t.models(f)[0], stream, KB),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`${t.id} answered ${res.statusCode}: ${body.toString().slice(0, 200)}`);
  return body;
}

function excerpt(text: string, at: number): string {
  return JSON.stringify(text.slice(Math.max(0, at - 40), at + 60));
}

export async function checkPassthrough(direct: Target, others: Target[]): Promise<PassthroughCheck[]> {
  const out: PassthroughCheck[] = [];
  const cases: [Flavour, boolean][] = [
    ["plain", false],
    ["s20", true],
    ["s200", true],
  ];
  for (const [f, stream] of cases) {
    const reference = await fetchBody(direct, f, stream);
    const ref = normalise(reference);
    for (const t of others) {
      if (!t.flavours.includes(f)) continue;
      const label = `${f}${stream ? " (stream)" : ""}`;
      let got: Buffer;
      try {
        got = await fetchBody(t, f, stream);
      } catch (err) {
        out.push({ flavour: label, target: t.id, directBytes: reference.length, targetBytes: 0, identical: false, firstDifference: { offset: 0, direct: "", target: String(err) } });
        continue;
      }
      const text = normalise(got);
      const identical = text === ref;
      const check: PassthroughCheck = { flavour: label, target: t.id, directBytes: reference.length, targetBytes: got.length, identical };
      if (!identical) {
        let i = 0;
        while (i < ref.length && i < text.length && ref[i] === text[i]) i++;
        check.firstDifference = { offset: i, direct: excerpt(ref, i), target: excerpt(text, i) };
      }
      out.push(check);
    }
  }
  return out;
}
