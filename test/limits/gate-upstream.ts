/**
 * An OpenAI-compatible upstream the limits tests steer by hand: it can hold
 * each call until the test lets it go (so a test decides how many calls are
 * in flight), answer with a chosen status and headers, and keep a stream open
 * after its first event. Every call is recorded in arrival order by the text
 * of its last message, so a test can assert the order calls were admitted.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  /** Reported usage (prompt, completion). */
  usage?: [number, number];
}

interface Held {
  name: string;
  res: ServerResponse;
  stream: boolean;
  answer: Answer;
}

export class GateUpstream {
  readonly server: Server;
  url = "";
  /** The last message's text of every call, in arrival order. */
  readonly arrivals: string[] = [];
  /** Hold calls until let go (release), instead of answering at once. */
  hold = false;
  /** Keep a stream open after its first event until `endStreams()`. */
  holdStreams = false;
  /** The answers to give next, in order; then a 200. */
  readonly answers: Answer[] = [];
  readonly #held: Held[] = [];
  readonly #open = new Set<ServerResponse>();
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor() {
    this.server = createServer((req, res) => this.#serve(req, res));
  }

  async listen(): Promise<this> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  /** Resolves once `n` calls have arrived in all. */
  arrived(n: number): Promise<void> {
    if (this.arrivals.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  /** Answers the oldest held call (or the one named). */
  release(name?: string): void {
    const i = name === undefined ? 0 : this.#held.findIndex((h) => h.name === name);
    const [h] = this.#held.splice(i, 1);
    if (h === undefined) throw new Error(`no held call ${name ?? ""}`);
    this.#answer(h);
  }

  get heldCount(): number {
    return this.#held.length;
  }

  /** Ends every stream kept open. */
  endStreams(): void {
    for (const res of this.#open) {
      res.end(`data: ${JSON.stringify(chunk({}, "stop", [7, 5]))}\n\ndata: [DONE]\n\n`);
    }
    this.#open.clear();
  }

  reset(): void {
    this.arrivals.length = 0;
    this.answers.length = 0;
    this.hold = false;
    this.holdStreams = false;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      if (req.method === "GET") return void res.writeHead(200, { "content-type": "application/json" }).end('{"object":"list","data":[]}');
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean; messages?: Array<{ content?: unknown }> };
      const name = String(body.messages?.at(-1)?.content ?? "");
      this.arrivals.push(name);
      this.#waiters = this.#waiters.filter((w) => (this.arrivals.length >= w.n ? (w.resolve(), false) : true));
      const h: Held = { name, res, stream: body.stream === true, answer: this.answers.shift() ?? {} };
      if (this.hold) this.#held.push(h);
      else this.#answer(h);
    });
  }

  #answer({ res, stream, answer }: Held): void {
    const status = answer.status ?? 200;
    const headers = answer.headers ?? {};
    if (status !== 200) {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify({ error: { message: `upstream says ${status}`, type: "requests", code: status === 429 ? "rate_limit_exceeded" : null } }));
      return;
    }
    const usage = answer.usage ?? [7, 5];
    if (!stream) {
      res.writeHead(200, { "content-type": "application/json", ...headers });
      res.end(
        JSON.stringify({
          id: "c",
          object: "chat.completion",
          created: 0,
          model: "m",
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: usage[0], completion_tokens: usage[1], total_tokens: usage[0] + usage[1] },
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", ...headers });
    res.write(`data: ${JSON.stringify(chunk({ role: "assistant", content: "ok" }, null))}\n\n`);
    if (this.holdStreams) this.#open.add(res);
    else res.end(`data: ${JSON.stringify(chunk({}, "stop", usage))}\n\ndata: [DONE]\n\n`);
  }
}

function chunk(delta: Record<string, unknown>, finish: string | null, usage?: [number, number]) {
  const c: Record<string, unknown> = { id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] };
  if (usage !== undefined) c.usage = { prompt_tokens: usage[0], completion_tokens: usage[1], total_tokens: usage[0] + usage[1] };
  return c;
}
