/**
 * Imports point down. The layers of src/, top to bottom:
 *
 *   cli → server → engine → cache → routing → limits → upstream → providers → codecs → protocol / state / config / telemetry → time
 *
 * A module may import from its own layer or any layer below it, never from one
 * above. The four bottom layers are peers; time (the injected clock and
 * randomness) sits under all of them and imports nothing. src/index.ts, the
 * package entry, stands above cli and may export from anywhere.
 *
 * mock/ is a separate tool (the fake upstream) used only by cli and by tests:
 * nothing else in src/ may import it, and it may itself import only the bottom
 * layers, so that the gateway never runs test-tool code and the mock never
 * runs the gateway's.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const RANK: Record<string, number> = {
  index: 8,
  cli: 7,
  server: 6,
  engine: 5,
  // The response cache and coalescing: in front of the engine's upstream path, which it is handed as a function.
  cache: 4.5,
  routing: 4,
  // Concurrency queues, rate windows, token counting: used by the engine's wrappers and the fronts.
  limits: 3.5,
  upstream: 3,
  providers: 2,
  // Wire-API translation (codecs/): used by providers (their upstream's API) and by the engine (the client's).
  codecs: 1.5,
  protocol: 1,
  state: 1,
  config: 1,
  telemetry: 1,
  time: 0,
};
const MOCK = "mock";
/** The highest layer the mock may import from. */
const MOCK_MAY_IMPORT_UP_TO = 1;
/** The only layers that may import the mock. */
const MOCK_USERS = new Set(["cli"]);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

interface Import {
  /** The module specifier, or undefined for a dynamic import() whose argument is not a string literal. */
  spec: string | undefined;
  line: number;
}

/** Every import of a module: static imports and exports, `import x = require()`, dynamic import() and import("…") types. */
function importsOf(fileName: string, text: string): Import[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (node: ts.Node, spec: ts.Node | undefined) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ spec: spec !== undefined && ts.isStringLiteralLike(spec) ? spec.text : undefined, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined)) {
      add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      add(node, ts.isLiteralTypeNode(arg) ? arg.literal : undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The layer a file under src/ belongs to: its top folder, or "index" for src/index.ts. */
function layerOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, "") : rel[0];
}

/** What is wrong with `file` importing `spec`, or undefined when nothing is. */
function problem(file: string, spec: string | undefined): string | undefined {
  if (spec === undefined) return "a dynamic import() of a computed specifier, which cannot be checked";
  if (!spec.startsWith(".") && !spec.startsWith("/")) return undefined; // a package or node: built-in
  const target = resolve(dirname(file), spec);
  if (relative(SRC, target).startsWith("..")) return `reaches outside src/ (${relative(ROOT, target)})`;
  const from = layerOf(file);
  const to = layerOf(target);
  if (from === to) return undefined;
  if (to === MOCK) return MOCK_USERS.has(from) ? undefined : `${from}/ imports the mock, a test tool only cli/ may use`;
  if (from === MOCK) {
    const rank = RANK[to];
    return rank !== undefined && rank <= MOCK_MAY_IMPORT_UP_TO ? undefined : `the mock imports ${to}/, which is not a bottom layer`;
  }
  if (RANK[from] === undefined) return `${from}/ has no place in the layer order (add it to RANK in test/layers.test.ts)`;
  if (RANK[to] === undefined) return `${to}/ has no place in the layer order (add it to RANK in test/layers.test.ts)`;
  if (RANK[to] > RANK[from]) return `${from}/ imports ${to}/, a layer above it`;
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|cts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe("import scanning", () => {
  test("finds every kind of import, and nothing in comments or strings", () => {
    const text = [
      'import { a,',
      '  b } from "./multi-line.ts";',
      'import type { T } from "./type-only.ts";',
      'import "./side-effect.ts";',
      'export * from "./star.ts";',
      'export { c } from "./named.ts";',
      'export type { U } from "./type-export.ts";',
      'const m = await import("./dynamic.ts");',
      'type V = import("./import-type.ts").V;',
      'const w = await import(name);',
      '// import { x } from "./in-a-comment.ts";',
      '/* export * from "./in-a-block-comment.ts"; */',
      'const s = \'import { y } from "./in-a-string.ts"\';',
      "export const z = 1;",
    ].join("\n");
    const specs = importsOf("sample.ts", text).map((i) => i.spec);
    assert.deepEqual(specs, [
      "./multi-line.ts",
      "./type-only.ts",
      "./side-effect.ts",
      "./star.ts",
      "./named.ts",
      "./type-export.ts",
      "./dynamic.ts",
      "./import-type.ts",
      undefined,
    ]);
  });

  test("tells upward, mock and computed imports from allowed ones", () => {
    const at = (path: string) => join(SRC, path);
    assert.equal(problem(at("engine/gateway.ts"), "../upstream/health.ts"), undefined);
    assert.equal(problem(at("providers/openai/index.ts"), "../../protocol/errors.ts"), undefined);
    assert.equal(problem(at("state/store.ts"), "../time/clock.ts"), undefined);
    assert.equal(problem(at("upstream/x.ts"), "undici"), undefined);
    assert.equal(problem(at("cli/mock.ts"), "../mock/server.ts"), undefined);
    assert.match(problem(at("routing/plan.ts"), "../engine/clock.ts") ?? "", /routing\/ imports engine\/, a layer above it/);
    assert.match(problem(at("time/clock.ts"), "../protocol/errors.ts") ?? "", /a layer above it/);
    assert.match(problem(at("upstream/demo.ts"), "../mock/openai-wire.ts") ?? "", /imports the mock/);
    assert.match(problem(at("mock/server.ts"), "../engine/gateway.ts") ?? "", /not a bottom layer/);
    assert.match(problem(at("engine/x.ts"), undefined) ?? "", /cannot be checked/);
    assert.match(problem(at("engine/x.ts"), "../../test/helpers/fake-clock.ts") ?? "", /outside src/);
    assert.match(problem(at("newlayer/x.ts"), "../protocol/errors.ts") ?? "", /no place in the layer order/);
  });
});

test("every import under src/ points down the layers", () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 20, `found only ${files.length} files under src/`);
  const wrong: string[] = [];
  let seen = 0;
  for (const file of files) {
    for (const { spec, line } of importsOf(file, readFileSync(file, "utf8"))) {
      seen++;
      const why = problem(file, spec);
      if (why !== undefined) wrong.push(`${relative(ROOT, file)}:${line} imports "${spec ?? "(computed)"}": ${why}`);
    }
  }
  assert.ok(seen > 100, `found only ${seen} imports`);
  assert.deepEqual(wrong, [], `imports that point the wrong way:\n  ${wrong.join("\n  ")}`);
});
