/**
 * Human-friendly durations ("250ms", "10s", "5m") and sizes ("10mb") as they
 * appear in the config file, converted to milliseconds and bytes.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Node timers overflow past 2^31-1 ms and then fire almost at once, so a
 * longer timeout would silently turn into no timeout at all.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/;

function describe(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function parseQuantity(v: unknown, units: Record<string, number>, plainUnit: string, kind: string): number {
  const hint = `expected a non-negative number with a unit (${Object.keys(units).join(", ")})`;
  let amount: number;
  let unit = plainUnit;
  if (typeof v === "number") {
    amount = v;
  } else if (typeof v === "string") {
    const match = QUANTITY.exec(v.trim().toLowerCase());
    if (!match) throw new Error(`invalid ${kind} ${describe(v)}: ${hint}`);
    amount = Number(match[1]);
    if (match[2] !== "") unit = match[2];
  } else {
    throw new Error(`invalid ${kind} ${describe(v)}: ${hint}`);
  }
  if (!Number.isFinite(amount) || amount < 0) throw new Error(`invalid ${kind} ${describe(v)}: ${hint}`);
  const factor = units[unit];
  if (factor === undefined) throw new Error(`invalid ${kind} ${describe(v)}: unknown unit "${unit}", ${hint}`);
  return amount * factor;
}

/** Milliseconds from "250ms", "1.5s", "2m", "1h" or a plain number of milliseconds. */
export function parseDuration(v: string | number): number {
  const ms = parseQuantity(v, DURATION_UNITS, "ms", "duration");
  if (ms > MAX_DURATION_MS) throw new Error(`invalid duration ${describe(v)}: longer than the maximum of 24 days`);
  return ms;
}

/** Bytes from "100b", "512kb", "10mb", "1gb" (1kb = 1024 bytes) or a plain number of bytes. */
export function parseSize(v: string | number): number {
  const bytes = Math.floor(parseQuantity(v, SIZE_UNITS, "b", "size"));
  if (!Number.isSafeInteger(bytes)) throw new Error(`invalid size ${describe(v)}: too large`);
  return bytes;
}

/** The largest unit that divides `amount` exactly, so a value reads as it would be written. */
function formatQuantity(amount: number, units: Record<string, number>): string {
  const [unit, factor] = Object.entries(units)
    .sort((a, b) => b[1] - a[1])
    .find(([, f]) => amount % f === 0) ?? ["", 1];
  return amount === 0 ? "0" : `${amount / factor}${unit}`;
}

/** "250ms", "10s", "5m", "1h": the reverse of parseDuration, for help texts. */
export function formatDuration(ms: number): string {
  return formatQuantity(ms, DURATION_UNITS);
}

/** "512kb", "10mb": the reverse of parseSize, for help texts. */
export function formatSize(bytes: number): string {
  return formatQuantity(bytes, SIZE_UNITS);
}
