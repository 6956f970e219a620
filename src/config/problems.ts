/**
 * Shared vocabulary for reporting config problems: dotted paths, "did you
 * mean" hints and the error that carries every problem at once.
 */

export type PathSegment = string | number;

/** Keys that read unambiguously after a dot; anything else is quoted. */
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `["models", "chat", "targets", 1, "provider"]` → `models.chat.targets[1].provider`. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return "config";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function problemAt(path: readonly PathSegment[], message: string): string {
  return `${formatPath(path)}: ${message}`;
}

/**
 * Optimal-string-alignment distance, so a swapped pair of letters ("opnae")
 * costs one edit like any other typo.
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(best);
    }
  }
  return rows[a.length][b.length];
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Roughly one typo per three characters; beyond that a hint is more confusing than helpful.
  const allowed = Math.max(1, Math.floor(Math.max(needle.length, best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** `' (did you mean "openai"?)'`, or "" when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = closest(input, candidates);
  return match === undefined ? "" : ` (did you mean ${JSON.stringify(match)}?)`;
}

/**
 * Every problem found in a config, reported together so a broken file can be
 * fixed in one pass. Messages never echo secrets (API keys, header values).
 */
export class ConfigError extends Error {
  problems: string[];

  constructor(problems: readonly string[], header = "invalid config:") {
    super([header, ...problems.map((problem) => `  ${problem}`)].join("\n"));
    this.name = "ConfigError";
    this.problems = [...problems];
  }
}
