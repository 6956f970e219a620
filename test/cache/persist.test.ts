import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Logger } from "../../src/telemetry/log.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { chat, post } from "../helpers/gateway.ts";
import { calls, startCached } from "./setup.ts";

const dir = mkdtempSync(join(tmpdir(), "switchyard-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function capturing(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (_obj, msg) => void warnings.push(msg ?? "") };
}

describe("the cache file", () => {
  test("entries outlive a restart, whole and streamed, until their ttl", async () => {
    const file = join(dir, "restart.db");
    const clock = new FakeClock();
    const first = await startCached({ enabled: true, persist: file, ttl: "1h" }, {}, {}, { clock });
    const whole = await post(`${first.gw.url}/v1/chat/completions`, chat("m"));
    const streamed = await post(`${first.gw.url}/v1/chat/completions`, chat("m", { seed: 2, stream: true }));
    assert.equal(streamed.headers.get("x-switchyard-cache"), "miss");
    await first.close();

    clock.advance(30 * 60_000);
    const second = await startCached({ enabled: true, persist: file, ttl: "1h" }, {}, {}, { clock });
    try {
      const again = await post(`${second.gw.url}/v1/chat/completions`, chat("m"));
      assert.equal(again.headers.get("x-switchyard-cache"), "hit");
      assert.equal(again.headers.get("age"), "1800");
      assert.deepEqual(JSON.parse(again.text).choices, JSON.parse(whole.text).choices);
      const replay = await post(`${second.gw.url}/v1/chat/completions`, chat("m", { seed: 2, stream: true }));
      assert.equal(replay.headers.get("x-switchyard-cache"), "hit");
      const id = (t: string) => /"id":"(chatcmpl-[^"]+)"/.exec(t)![1];
      const plain = (t: string) => t.replaceAll(id(t), "X").replace(/"created":\d+/g, '"created":0');
      assert.equal(plain(replay.text), plain(streamed.text));
      assert.match(replay.text, /"created":1700001800,/, "created is the time of the replay");
      assert.equal(calls(second.mock), 0, "the restarted gateway answered from the file");
      clock.advance(30 * 60_000);
      assert.equal((await post(`${second.gw.url}/v1/chat/completions`, chat("m"))).headers.get("x-switchyard-cache"), "miss");
    } finally {
      await second.close();
    }
  });

  test("a purge reaches the file", async () => {
    const file = join(dir, "purge.db");
    const clock = new FakeClock();
    const first = await startCached({ enabled: true, persist: file }, {}, {}, { clock });
    await post(`${first.gw.url}/v1/chat/completions`, chat("m"));
    assert.equal(first.gw.engine.cache!.purge(), 1);
    await first.close();
    const second = await startCached({ enabled: true, persist: file }, {}, {}, { clock });
    try {
      assert.equal(second.gw.engine.cacheStats().entries, 0);
    } finally {
      await second.close();
    }
  });

  test("a corrupt file is moved aside with a warning and the gateway starts with an empty cache", async () => {
    const file = join(dir, "corrupt.db");
    writeFileSync(file, "this is not an SQLite database, just some bytes that look like nothing at all".repeat(100));
    const logger = capturing();
    const s = await startCached({ enabled: true, persist: file }, {}, {}, { logger });
    try {
      assert.equal(logger.warnings.length, 1);
      assert.match(logger.warnings[0], /could not be read.*moved it to .*corrupt-\d+/);
      const aside = readdirSync(dir).filter((f) => f.startsWith("corrupt.db.corrupt-"));
      assert.equal(aside.length, 1);
      assert.ok(existsSync(file), "a new file took its place");
      assert.equal(s.gw.engine.cacheStats().entries, 0);
      assert.equal((await post(`${s.gw.url}/v1/chat/completions`, chat("m"))).headers.get("x-switchyard-cache"), "miss");
      assert.equal((await post(`${s.gw.url}/v1/chat/completions`, chat("m"))).headers.get("x-switchyard-cache"), "hit");
    } finally {
      await s.close();
    }
  });
});

describe("a cache file from an earlier version", () => {
  test("its old table, whose rows cannot be found again, is dropped; the gateway starts without a warning and stores anew", async () => {
    const file = join(dir, "older.db");
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    const old = new DatabaseSync(file);
    old.exec("CREATE TABLE entries (key TEXT PRIMARY KEY, op TEXT NOT NULL, model TEXT NOT NULL)");
    old.exec("INSERT INTO entries VALUES ('k', 'chat', 'm')");
    old.close();
    const logger = capturing();
    const s = await startCached({ enabled: true, persist: file }, {}, {}, { logger });
    try {
      assert.deepEqual(logger.warnings, []);
      assert.equal(s.gw.engine.cacheStats().entries, 0);
      await post(`${s.gw.url}/v1/chat/completions`, chat("m"));
    } finally {
      await s.close();
    }
    const db = new DatabaseSync(file);
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
      assert.deepEqual(tables, ["answers"]);
      const rows = db.prepare("SELECT op, tenant, form, request FROM answers").all();
      assert.equal(rows.length, 1);
      assert.equal(rows[0].op, "chat");
      assert.equal(rows[0].tenant, "");
      assert.equal(JSON.parse(rows[0].request as string).model, "m", "the row keeps the request it answers");
    } finally {
      db.close();
    }
  });
});

describe("a cache file that cannot be opened", () => {
  test("the gateway warns and keeps its entries in memory only", async () => {
    const logger = capturing();
    const s = await startCached({ enabled: true, persist: join(dir, "no-such-dir", "cache.db") }, {}, {}, { logger });
    try {
      assert.equal(logger.warnings.length, 1);
      assert.match(logger.warnings[0], /cannot be used.*memory only/);
      await post(`${s.gw.url}/v1/chat/completions`, chat("m"));
      assert.equal((await post(`${s.gw.url}/v1/chat/completions`, chat("m"))).headers.get("x-switchyard-cache"), "hit");
    } finally {
      await s.close();
    }
  });
});
