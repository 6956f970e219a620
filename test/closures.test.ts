/**
 * No function literal is assigned straight to a property in src/.
 *
 * V8's parser marks a function literal on the right of a property assignment
 * (`obj.x = () => …`, `obj.x = function () {}`) to be made in the old
 * generation, on the guess that it is a method set up once. Made on every
 * request, such a closure is old from birth and keeps its context, and all
 * the request's objects the context reaches, alive through every young
 * collection until the next full one. One such closure on the cache's miss
 * path tripled the bytes promoted per request (docs/benchmarks.md, "The
 * closure that promoted every miss"). Name the function first
 * (`const f = () => …; obj.x = f;`): the same closure is then made young.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

const ASSIGNMENTS = new Set([ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken, ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken]);

/** The expression under parentheses and type-only wrappers, which type stripping erases. */
function bare(e: ts.Expression): ts.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
    else return e;
  }
}

/** Lines (1-based) where a function literal is assigned to a property. */
function propertyFunctionAssignments(fileName: string, text: string): number[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && ASSIGNMENTS.has(node.operatorToken.kind)) {
      const left = bare(node.left);
      const right = bare(node.right);
      if ((ts.isPropertyAccessExpression(left) || ts.isElementAccessExpression(left)) && (ts.isArrowFunction(right) || ts.isFunctionExpression(right))) {
        lines.push(sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return lines;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => join(d.parentPath, d.name));
}

test("the check finds each form of the assignment, and not a named function stored", () => {
  const text = [
    "w.onAbort = () => {};",
    "this.#x = (m) => m;",
    "o[k] = function () {};",
    "o.f ??= (() => 1) as unknown as F;",
    "const f = () => {}; w.onAbort = f;",
    "const g = { h: () => 1 };",
    "use(() => 2);",
  ].join("\n");
  assert.deepEqual(propertyFunctionAssignments("sample.ts", text), [1, 2, 3, 4]);
});

test("src/ assigns no function literal to a property (name it first: const f = …; obj.x = f)", () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    for (const line of propertyFunctionAssignments(file, readFileSync(file, "utf8"))) found.push(`${relative(ROOT, file)}:${line}`);
  }
  assert.deepEqual(found, []);
});
