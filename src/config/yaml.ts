/**
 * YAML text to a plain value, with every problem the YAML layer itself can
 * find reported the way the schema reports its own: by line and column for
 * syntax, by path for merge keys.
 */

import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from "yaml";
import { ConfigError, problemAt } from "./problems.ts";
import type { PathSegment } from "./problems.ts";

/** The merge key's scalar: `merge: true` resolves a plain `<<` to this symbol. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === "symbol" && key.value.description === "<<";
}

/** The path of a node from the ancestors the visitor hands over. */
function pathOf(ancestors: readonly unknown[]): PathSegment[] {
  const path: PathSegment[] = [];
  ancestors.forEach((node, i) => {
    if (isPair(node)) path.push(isScalar(node.key) ? String(node.key.value) : String(node.key));
    else if (isSeq(node)) path.push(node.items.indexOf(ancestors[i + 1] as never));
  });
  return path;
}

/**
 * `<<: ~` or `<<: 5` makes the YAML library throw a message with no place in
 * it while building the value; found here first, each gets its path.
 */
function mergeProblems(doc: Document): string[] {
  const problems: string[] = [];
  const message = "a merge (<<) takes a mapping, an alias to one, or a list of those";
  const isSource = (node: unknown) => isMap(isAlias(node) ? node.resolve(doc) : node);
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isMergeKey(pair.key)) return;
      const at = [...pathOf(ancestors), "<<"];
      const value = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
      if (isSeq(value)) {
        value.items.forEach((item, index) => {
          if (!isSource(item)) problems.push(problemAt([...at, index], message));
        });
      } else if (!isMap(value)) {
        problems.push(problemAt(at, message));
      }
    },
  });
  return problems;
}

export function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  // Plain errors: the pretty form quotes the offending lines, which may hold API keys.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const header = `invalid config (${file}):`;
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `line ${line}, column ${col}: ${error.message}`;
      }),
      header,
    );
  }
  const merges = mergeProblems(doc);
  if (merges.length > 0) throw new ConfigError(merges, header);
  try {
    return doc.toJS();
  } catch (err) {
    throw new ConfigError([(err as Error).message], header);
  }
}
