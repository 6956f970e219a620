/**
 * `${VAR}` / `${VAR:-default}` substitution over an already-parsed YAML value.
 *
 * Working on parsed values rather than the raw text means a variable can only
 * ever become (part of) a string: a value containing ": " or a newline can't
 * add keys or change the document's structure. Keys are left alone for the
 * same reason, and because a config whose shape depends on the environment
 * is hard to reason about.
 */

import { formatPath, problemAt } from "./problems.ts";
import type { PathSegment } from "./problems.ts";

export type Env = Record<string, string | undefined>;

export interface Interpolated {
  value: unknown;
  problems: string[];
  /** Formatted paths of the values that had problems, so later checks can skip them. */
  problemPaths: string[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function expand(text: string, env: Env, path: readonly PathSegment[], problems: string[]): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith("$${", dollar)) {
      out += "${";
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith("${", dollar)) {
      out += "$";
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf("}", dollar + 2);
    if (close < 0) {
      problems.push(problemAt(path, 'unterminated "${" (write "$${" for a literal "${")'));
      out += text.slice(dollar);
      break;
    }
    const body = text.slice(dollar + 2, close);
    const match = REFERENCE.exec(body);
    if (!match || match[2]?.includes("${")) {
      problems.push(problemAt(path, `invalid reference "\${${body}}" (expected \${NAME} or \${NAME:-default})`));
    } else {
      const [, name, fallback] = match;
      const value = env[name];
      // Like the shell's ":-", an empty variable counts as unset when a default is given.
      if (fallback !== undefined) out += value === undefined || value === "" ? fallback : value;
      else if (value === undefined) problems.push(problemAt(path, `environment variable ${name} is not set`));
      else out += value;
    }
    i = close + 1;
  }
  return out;
}

function walk(value: unknown, env: Env, path: PathSegment[], result: Interpolated): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    const before = result.problems.length;
    const expanded = expand(value, env, path, result.problems);
    if (result.problems.length > before) result.problemPaths.push(formatPath(path));
    return expanded;
  }
  if (Array.isArray(value)) return value.map((item, index) => walk(item, env, [...path, index], result));
  if (isPlainObject(value)) {
    // fromEntries defines properties, so a "__proto__" key stays an ordinary key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, env, [...path, key], result)]));
  }
  return value;
}

/** A copy of `value` with every string's references replaced; the input is not modified. */
export function interpolate(value: unknown, env: Env): Interpolated {
  const result: Interpolated = { value: undefined, problems: [], problemPaths: [] };
  result.value = walk(value, env, [], result);
  return result;
}
