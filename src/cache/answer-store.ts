import { FingerprintTable } from "./fingerprint-table.ts";
import { type AnswerHead, Recording } from "./recording.ts";

/** What a stored answer cost upstream, for the saved tokens and cost in the stats. */
export interface Saved {
  inputTokens: number;
  outputTokens: number;
  /** In the pricing's currency, when the target has a price. */
  cost: number;
}

/** An answer to keep, and the request it answers. */
export interface NewEntry {
  fp: number;
  op: string;
  tenant: string;
  form: string;
  /** The request's bytes as its client sent them, kept to confirm lookups. */
  request: Buffer;
  model: string;
  head: AnswerHead;
  /** A whole answer, or a stream's events. */
  body: Buffer | undefined;
  chunks: readonly Buffer[];
  storedAt: number;
  expiresAt: number;
  fileKey?: string;
  saved?: Saved;
}

export interface StoreEvents {
  /** An entry was dropped: `evicted` when room was needed, else it expired, was replaced or purged. */
  removed(model: string, fileKey: string | undefined, evicted: boolean): void;
}

/** The attempts of every stored answer's head: none (a hit made no upstream attempt), one shared array. */
const NO_ATTEMPTS: AnswerHead["attempts"] = Object.freeze([]) as unknown as AnswerHead["attempts"];

/**
 * The largest slab: the store's bytes are split into slabs of at most
 * this. All are allocated together when the first entry is written; the
 * operating system gives them memory only as they are written to, or as
 * a claim (memory-claim.ts) writes to them ahead of the entries.
 *
 * Why all at once: V8 counts buffers' memory as external memory and starts
 * a full collection each time that grows by a step. Allocated as the ring
 * filled, the slabs set off one full collection after another (8 to 16
 * while a 256 MB ring filled under load, measured; 3 or 4 at once).
 */
const MAX_SLAB = 16 * 1024 * 1024;

/**
 * The names an entry has (operation, tenant tag, form, model, content type,
 * target) are kept as numbers into a table of distinct names, so that the
 * collector has no array of pointers to trace. Names are few (the config's
 * models and targets, the gateway's keys); a store that has seen this many
 * stops storing entries with new ones, so that clients cannot grow it.
 */
const MAX_NAMES = 65_536;
const OP = 0;
const TENANT = 1;
const FORM = 2;
const MODEL = 3;
const TYPE = 4;
const TARGET = 5;
const NAMES = 6;

/**
 * The cache's entries, least recently used first, in a ring of bytes no
 * larger than `maxBytes`: each entry's request and answer are copied into
 * the ring, and what is known about it is held in typed arrays indexed by
 * a slot number, so that a stored entry is no object of its own for the
 * garbage collector to trace or move (a map of objects per entry cost
 * about a sixth of the throughput of requests that miss).
 *
 * Regions are written one after another. A hit writes its entry again at
 * the head, so the ring is in order of use, and the oldest region is the
 * least recently used; room is made by dropping regions from the tail
 * (the moved entry's old region is only space). A region never spans two
 * slabs. Entries are found by fingerprint (key.ts), one entry per
 * fingerprint: a request that shares another's by chance replaces it, and
 * callers confirm a found entry is the request's own (requestOf).
 */
export class AnswerStore {
  readonly #events: StoreEvents;
  readonly #claim: ((slabs: SharedArrayBuffer[]) => void) | undefined;
  readonly #slabSize: number;
  readonly #capacity: number;
  readonly #slabs: Buffer[] = [];
  /** Where the next region goes: a position that only grows; the ring's byte is position % capacity. */
  #head = 0;
  readonly #index = new FingerprintTable();
  readonly #nameIds = new Map<string, number>();
  readonly #nameList: string[] = [];
  /** Each column's last name and its number (#id). */
  readonly #lastName: Array<string | undefined> = new Array<string | undefined>(NAMES).fill(undefined);
  readonly #lastId = new Int32Array(NAMES);
  /** The regions in the order they were written: position and slot, oldest at #qTail. */
  #qPos = new Float64Array(64);
  #qSlot = new Int32Array(64);
  #qTail = 0;
  #qHead = 0;
  // Per slot. #pos is -1 for a free slot.
  #fp = new Int32Array(64);
  #pos = new Float64Array(64).fill(-1);
  #len = new Uint32Array(64);
  #reqLen = new Uint32Array(64);
  /** -1: a whole answer; else the number of stream events. */
  #eventCount = new Int32Array(64);
  #status = new Uint16Array(64);
  #storedAt = new Float64Array(64);
  #expiresAt = new Float64Array(64);
  #saved = new Float64Array(64 * 3);
  #savedKnown = new Uint8Array(64);
  /** NAMES name numbers per slot. */
  #names = new Int32Array(64 * NAMES);
  /** Rows of the cache file, by slot; written only when there is a file. */
  #fileKey: Array<string | undefined> = [];
  #free: number[] = [];
  #slots = 0;
  /** The bytes of the entries held (their regions). */
  bytes = 0;

  /**
   * `claim`, when given, is handed the slabs as they are allocated (as
   * shared memory) to claim their memory from the system ahead of the
   * writes (memory-claim.ts).
   */
  constructor(maxBytes: number, events: StoreEvents, claim?: (slabs: SharedArrayBuffer[]) => void) {
    this.#events = events;
    this.#claim = claim;
    const slabs = Math.max(1, Math.ceil(maxBytes / MAX_SLAB));
    this.#slabSize = Math.max(1, Math.floor(maxBytes / slabs));
    this.#capacity = this.#slabSize * slabs;
  }

  get size(): number {
    return this.#index.size;
  }

  /** The slot of the fresh entry under `fp`, or -1; an expired one is dropped. */
  find(fp: number, now: number): number {
    const slot = this.#index.get(fp);
    if (slot < 0) return -1;
    if (this.#expiresAt[slot] <= now) {
      this.#drop(slot, false);
      return -1;
    }
    return slot;
  }

  /** Whether a slot's entry is for this operation, tenant and form. */
  isFor(slot: number, op: string, tenant: string, form: string): boolean {
    const at = slot * NAMES;
    return this.#is(at + OP, op) && this.#is(at + TENANT, tenant) && this.#is(at + FORM, form);
  }

  /** Whether a slot's entry answers exactly these request bytes (compared where they lie). */
  hasRequest(slot: number, request: Buffer): boolean {
    if (this.#reqLen[slot] !== request.length) return false;
    const pos = this.#pos[slot];
    const off = this.#offset(pos);
    return this.#slab(pos).compare(request, 0, request.length, off, off + request.length) === 0;
  }

  /** The request a slot's entry answers, as its client sent it. */
  requestOf(slot: number): string {
    return this.#region(this.#pos[slot], this.#reqLen[slot]).toString("utf8");
  }

  storedAt(slot: number): number {
    return this.#storedAt[slot];
  }

  savedOf(slot: number): Saved | undefined {
    if (this.#savedKnown[slot] === 0) return undefined;
    return { inputTokens: this.#saved[slot * 3], outputTokens: this.#saved[slot * 3 + 1], cost: this.#saved[slot * 3 + 2] };
  }

  setSaved(slot: number, s: Saved): void {
    this.#saved[slot * 3] = s.inputTokens;
    this.#saved[slot * 3 + 1] = s.outputTokens;
    this.#saved[slot * 3 + 2] = s.cost;
    this.#savedKnown[slot] = 1;
  }

  /**
   * A slot's answer, copied out of the ring (a reader may outlive the
   * region), and the entry marked most recently used: written again at the
   * head.
   */
  read(slot: number): Recording {
    const len = this.#len[slot];
    const copy = Buffer.from(this.#region(this.#pos[slot], len));
    // Moved: the old region becomes space, and making room never drops this entry.
    this.#pos[slot] = -2;
    const to = this.#place(len);
    copy.copy(this.#region(to, len));
    this.#pos[slot] = to;
    this.#queue(to, slot);
    const head: AnswerHead = { status: this.#status[slot], contentType: this.#name(slot, TYPE), target: this.#name(slot, TARGET), attempts: NO_ATTEMPTS };
    const req = this.#reqLen[slot];
    const n = this.#eventCount[slot];
    if (n < 0) return Recording.finished(head, copy.subarray(req), undefined);
    const chunks: Buffer[] = new Array(n);
    let at = req;
    for (let i = 0; i < n; i++) {
      const size = copy.readUInt32LE(at);
      chunks[i] = copy.subarray(at + 4, at + 4 + size);
      at += 4 + size;
    }
    return Recording.finished(head, undefined, chunks);
  }

  /** Stores an entry, replacing any under its fingerprint and dropping the least recently used until it fits; false when it cannot fit at all. */
  put(e: NewEntry): boolean {
    const req = e.request.length;
    let len = req;
    if (e.body !== undefined) len += e.body.length;
    else for (const c of e.chunks) len += 4 + c.length;
    if (len > this.#slabSize) return false;
    const op = this.#id(e.op, OP);
    const tenant = this.#id(e.tenant, TENANT);
    const form = this.#id(e.form, FORM);
    const model = this.#id(e.model, MODEL);
    const type = this.#id(e.head.contentType, TYPE);
    const target = this.#id(e.head.target, TARGET);
    if ((op | tenant | form | model | type | target) < 0) return false;
    const old = this.#index.get(e.fp);
    if (old >= 0) this.#drop(old, false);
    const pos = this.#place(len);
    // Copied into the slab where the region lies, with no view of it made (a view is an object per store),
    // by Buffer's copy: TypedArray's set copies into shared memory (the claimed slabs) as atomics allow, at
    // about a third of the speed.
    const slab = this.#slab(pos);
    let off = this.#offset(pos);
    off += e.request.copy(slab, off);
    if (e.body !== undefined) e.body.copy(slab, off);
    else {
      for (const c of e.chunks) {
        off = slab.writeUInt32LE(c.length, off);
        off += c.copy(slab, off);
      }
    }
    const slot = this.#slot();
    this.#fp[slot] = e.fp;
    this.#pos[slot] = pos;
    this.#len[slot] = len;
    this.#reqLen[slot] = req;
    this.#eventCount[slot] = e.body !== undefined ? -1 : e.chunks.length;
    this.#status[slot] = e.head.status;
    this.#storedAt[slot] = e.storedAt;
    this.#expiresAt[slot] = e.expiresAt;
    this.#savedKnown[slot] = 0;
    if (e.saved !== undefined) this.setSaved(slot, e.saved);
    const names = slot * NAMES;
    this.#names[names + OP] = op;
    this.#names[names + TENANT] = tenant;
    this.#names[names + FORM] = form;
    this.#names[names + MODEL] = model;
    this.#names[names + TYPE] = type;
    this.#names[names + TARGET] = target;
    if (e.fileKey !== undefined || slot < this.#fileKey.length) this.#fileKey[slot] = e.fileKey;
    this.#index.set(e.fp, slot);
    this.#queue(pos, slot);
    this.bytes += len;
    return true;
  }

  /** Drops every entry (of `model`, when given); returns how many. */
  purge(model?: string): number {
    let n = 0;
    for (const slot of this.#index.values()) {
      if (model !== undefined && this.#name(slot, MODEL) !== model) continue;
      this.#drop(slot, false);
      n++;
    }
    return n;
  }

  /** Calls `fn` with each entry's model and bytes. */
  forEach(fn: (model: string, bytes: number) => void): void {
    for (const slot of this.#index.values()) fn(this.#name(slot, MODEL), this.#len[slot]);
  }

  /** The `len` bytes of the ring at a position, in the slab that holds them; a view, valid until the ring comes round. */
  #region(pos: number, len: number): Buffer {
    const off = this.#offset(pos);
    return this.#slab(pos).subarray(off, off + len);
  }

  /** The slab that holds a ring position (every slab allocated with the first). */
  #slab(pos: number): Buffer {
    if (this.#slabs.length === 0) this.#allocate();
    return this.#slabs[Math.floor((pos % this.#capacity) / this.#slabSize)];
  }

  /** Where a ring position lies in its slab. */
  #offset(pos: number): number {
    return (pos % this.#capacity) % this.#slabSize;
  }

  /** Every slab, shared with a thread that claims their memory when there is a claim. */
  #allocate(): void {
    const count = this.#capacity / this.#slabSize;
    if (this.#claim === undefined) {
      for (let k = 0; k < count; k++) this.#slabs.push(Buffer.allocUnsafeSlow(this.#slabSize));
      return;
    }
    const shared: SharedArrayBuffer[] = [];
    for (let k = 0; k < count; k++) {
      const buffer = new SharedArrayBuffer(this.#slabSize);
      shared.push(buffer);
      this.#slabs.push(Buffer.from(buffer));
    }
    this.#claim(shared);
  }

  /** The position of a new region of `len` bytes, with room made for it. */
  #place(len: number): number {
    let pos = this.#head;
    const off = pos % this.#slabSize;
    if (off + len > this.#slabSize) pos += this.#slabSize - off;
    while (this.#qTail !== this.#qHead && pos + len - this.#qPos[this.#qTail & (this.#qPos.length - 1)] > this.#capacity) {
      const i = this.#qTail++ & (this.#qPos.length - 1);
      const slot = this.#qSlot[i];
      if (this.#pos[slot] === this.#qPos[i]) this.#drop(slot, true);
    }
    this.#head = pos + len;
    return pos;
  }

  #queue(pos: number, slot: number): void {
    if (this.#qHead - this.#qTail === this.#qPos.length) {
      const n = this.#qPos.length;
      const p = new Float64Array(n * 2);
      const s = new Int32Array(n * 2);
      for (let k = 0; k < n; k++) {
        p[k] = this.#qPos[(this.#qTail + k) & (n - 1)];
        s[k] = this.#qSlot[(this.#qTail + k) & (n - 1)];
      }
      this.#qPos = p;
      this.#qSlot = s;
      this.#qTail = 0;
      this.#qHead = n;
    }
    const i = this.#qHead++ & (this.#qPos.length - 1);
    this.#qPos[i] = pos;
    this.#qSlot[i] = slot;
  }

  /** A free slot, the columns grown when there is none. */
  #slot(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    const slot = this.#slots++;
    if (slot === this.#fp.length) this.#grow(slot * 2);
    return slot;
  }

  #grow(n: number): void {
    const grown = <T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    const pos = grown(this.#pos, n);
    pos.fill(-1, this.#pos.length);
    this.#pos = pos;
    this.#fp = grown(this.#fp, n);
    this.#len = grown(this.#len, n);
    this.#reqLen = grown(this.#reqLen, n);
    this.#eventCount = grown(this.#eventCount, n);
    this.#status = grown(this.#status, n);
    this.#storedAt = grown(this.#storedAt, n);
    this.#expiresAt = grown(this.#expiresAt, n);
    this.#saved = grown(this.#saved, n * 3);
    this.#savedKnown = grown(this.#savedKnown, n);
    this.#names = grown(this.#names, n * NAMES);
  }

  #drop(slot: number, evicted: boolean): void {
    if (this.#pos[slot] === -1) return;
    this.#index.delete(this.#fp[slot], slot);
    this.#pos[slot] = -1;
    this.bytes -= this.#len[slot];
    const model = this.#name(slot, MODEL);
    const fileKey = slot < this.#fileKey.length ? this.#fileKey[slot] : undefined;
    if (fileKey !== undefined) this.#fileKey[slot] = undefined;
    this.#free.push(slot);
    this.#events.removed(model, fileKey, evicted);
  }

  /**
   * A name's number, or -1 when the table is full and the name is new.
   * Each column remembers its last name, which the next entry almost
   * always has again (one model, one target, one content type), so that a
   * store compares strings instead of hashing them.
   */
  #id(name: string, column: number): number {
    if (this.#lastName[column] === name) return this.#lastId[column];
    let id = this.#nameIds.get(name);
    if (id === undefined) {
      if (this.#nameList.length >= MAX_NAMES) return -1;
      id = this.#nameList.length;
      this.#nameIds.set(name, id);
      this.#nameList.push(name);
    }
    this.#lastName[column] = name;
    this.#lastId[column] = id;
    return id;
  }

  #name(slot: number, column: number): string {
    return this.#nameList[this.#names[slot * NAMES + column]];
  }

  /** Whether the name at `at` is `name` (a name never seen is no entry's). */
  #is(at: number, name: string): boolean {
    const id = this.#nameIds.get(name);
    return id !== undefined && this.#names[at] === id;
  }

}
