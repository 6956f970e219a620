import { renameSync } from "node:fs";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AnswerHead } from "./recording.ts";

/** One stored answer as the file holds it. */
export interface StoredRow {
  /** The row's key: a hash of the request's canonical form (key.ts cacheKey). */
  key: string;
  op: string;
  /** The tenant's tag under `cache.scope: key` (a hash, never the key itself), else "". */
  tenant: string;
  form: string;
  /** The request's text, from which a loaded entry's fingerprint is found again. */
  request: string;
  model: string;
  storedAt: number;
  expiresAt: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  head: AnswerHead;
  /** A whole answer; undefined for a stream. */
  body: Buffer | undefined;
  /** A stream's chunks. */
  chunks: Buffer[] | undefined;
}

let sqlite: typeof import("node:sqlite") | undefined;

/**
 * node:sqlite, loaded on first use only (a cache without `persist` never
 * loads it). Node 24 still calls it experimental and says so once on
 * stderr; that one warning is held back, every other goes out as usual.
 */
function loadSqlite(): typeof import("node:sqlite") {
  if (sqlite !== undefined) return sqlite;
  const emit = process.emitWarning;
  const quiet = (warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === "ExperimentalWarning" && text.includes("SQLite")) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = quiet as typeof process.emitWarning;
  try {
    sqlite = process.getBuiltinModule("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
  return sqlite;
}

/** SQLite's "not a database" and "database disk image is malformed", and a failed integrity check. */
function isDamage(err: unknown): boolean {
  const code = (err as { errcode?: unknown }).errcode;
  return code === 26 || code === 11 || (err instanceof DamagedFile);
}

class DamagedFile extends Error {}

/** Files of earlier versions kept their entries in a table without the requests; those rows cannot be found again and are dropped. */
const SCHEMA = `DROP TABLE IF EXISTS entries; CREATE TABLE IF NOT EXISTS answers (
  key TEXT PRIMARY KEY, op TEXT NOT NULL, tenant TEXT NOT NULL, form TEXT NOT NULL, request TEXT NOT NULL, model TEXT NOT NULL,
  stored_at REAL NOT NULL, expires_at REAL NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost REAL NOT NULL,
  head TEXT NOT NULL, body BLOB NOT NULL, chunk_sizes TEXT
)`;

/**
 * The cache's entries on disk, in an embedded SQLite file, written through
 * as entries are stored and dropped. A file that cannot be read as the
 * cache's database is moved aside (`<file>.corrupt-<time>`) and a new one
 * started, so a damaged file never stops the gateway.
 */
export class CacheFile {
  readonly #db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;

  constructor(path: string, warn: (message: string) => void, now: number) {
    const { DatabaseSync } = loadSqlite();
    let db: DatabaseSync;
    try {
      db = CacheFile.#open(DatabaseSync, path);
    } catch (err) {
      // A busy or unreachable file is not a damaged one: only damage moves it aside.
      if (!isDamage(err)) throw err;
      const aside = `${path}.corrupt-${Math.floor(now)}`;
      renameSync(path, aside);
      warn(`the cache file ${path} could not be read (${(err as Error).message}); moved it to ${aside} and started an empty cache`);
      db = CacheFile.#open(DatabaseSync, path);
    }
    this.#db = db;
    this.#put = db.prepare(
      "INSERT OR REPLACE INTO answers (key, op, tenant, form, request, model, stored_at, expires_at, input_tokens, output_tokens, cost, head, body, chunk_sizes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#del = db.prepare("DELETE FROM answers WHERE key = ?");
  }

  static #open(Db: typeof DatabaseSync, path: string): DatabaseSync {
    // Several workers may share the file: a writer waits for another's lock rather than failing at once.
    const db = new Db(path, { timeout: 2000 });
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(SCHEMA);
      const check = db.prepare("PRAGMA quick_check").get() as Record<string, unknown> | undefined;
      if (check !== undefined && Object.values(check)[0] !== "ok") throw new DamagedFile(`integrity check: ${String(Object.values(check)[0])}`);
      db.prepare("SELECT key, op, tenant, form, request, model, stored_at, expires_at, input_tokens, output_tokens, cost, head, body, chunk_sizes FROM answers LIMIT 1").all();
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The entries still fresh at `now`, least recently stored first; expired ones are deleted. Rows that do not parse are skipped. */
  load(now: number): StoredRow[] {
    this.#db.prepare("DELETE FROM answers WHERE expires_at <= ?").run(now);
    const out: StoredRow[] = [];
    for (const r of this.#db.prepare("SELECT * FROM answers ORDER BY stored_at").all() as Array<Record<string, unknown>>) {
      try {
        const body = Buffer.from(r.body as Uint8Array);
        const sizes = r.chunk_sizes === null ? undefined : (JSON.parse(r.chunk_sizes as string) as number[]);
        let chunks: Buffer[] | undefined;
        if (sizes !== undefined) {
          chunks = [];
          let at = 0;
          for (const n of sizes) {
            chunks.push(body.subarray(at, at + n));
            at += n;
          }
        }
        out.push({
          key: r.key as string,
          op: r.op as string,
          tenant: r.tenant as string,
          form: r.form as string,
          request: r.request as string,
          model: r.model as string,
          storedAt: r.stored_at as number,
          expiresAt: r.expires_at as number,
          inputTokens: Number(r.input_tokens),
          outputTokens: Number(r.output_tokens),
          cost: r.cost as number,
          head: JSON.parse(r.head as string) as AnswerHead,
          body: sizes === undefined ? body : undefined,
          chunks,
        });
      } catch {
        this.delete(r.key as string);
      }
    }
    return out;
  }

  put(row: StoredRow): void {
    const body = row.body ?? Buffer.concat(row.chunks ?? []);
    const sizes = row.chunks === undefined ? null : JSON.stringify(row.chunks.map((c) => c.length));
    const head = JSON.stringify({ ...row.head, attempts: [] });
    this.#put.run(row.key, row.op, row.tenant, row.form, row.request, row.model, row.storedAt, row.expiresAt, row.inputTokens, row.outputTokens, row.cost, head, body, sizes);
  }

  delete(key: string): void {
    this.#del.run(key);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
