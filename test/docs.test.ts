import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERRORS } from "../src/protocol/errors.ts";

test("docs/errors.md lists every code of the catalogue with its status and type", () => {
  const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
  const rows = new Map<string, string[]>();
  for (const line of doc.split("\n")) {
    const m = /^\| `(SY_ERR_\w+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (m) rows.set(m[1], [m[2].trim(), m[3].trim()]);
  }
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERRORS).sort());
  for (const [code, entry] of Object.entries(ERRORS)) {
    const [status, type] = rows.get(code)!;
    if (status !== "upstream's") assert.equal(status, String(entry.status), code);
    assert.equal(type, entry.type, code);
  }
});
