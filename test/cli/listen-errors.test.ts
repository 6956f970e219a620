import assert from "node:assert/strict";
import { test } from "node:test";
import { listenProblem } from "../../src/cli/listen-errors.ts";

const errno = (code: string, message = `listen ${code}: something`) => Object.assign(new Error(message), { code });

test("each bind failure gets the address and what to do about it", () => {
  assert.equal(
    listenProblem(errno("EADDRINUSE"), "127.0.0.1", 4000),
    "cannot listen on 127.0.0.1:4000: the address is already in use; choose another with --port (or server.port), or stop the process using it",
  );
  assert.match(listenProblem(errno("EACCES"), "0.0.0.0", 80)!, /^cannot listen on 0\.0\.0\.0:80: permission denied .*--port/);
  assert.match(listenProblem(errno("EADDRNOTAVAIL"), "10.9.9.9", 4000)!, /^cannot listen on 10\.9\.9\.9:4000: .*--host/);
  assert.match(listenProblem(errno("ENOTFOUND"), "nowhere.invalid", 4000)!, /^cannot listen on nowhere\.invalid:4000: .*does not resolve/);
});

test("an IPv6 address is bracketed", () => {
  assert.match(listenProblem(errno("EADDRINUSE"), "::1", 4000)!, /^cannot listen on \[::1\]:4000: /);
});

test("a copy that lost its code (from a worker thread) is recognised by its message", () => {
  assert.match(listenProblem(new Error("listen EADDRINUSE: address already in use 127.0.0.1:4000"), "127.0.0.1", 4000)!, /already in use/);
});

test("anything else is left alone", () => {
  assert.equal(listenProblem(new Error("boom"), "127.0.0.1", 4000), undefined);
  assert.equal(listenProblem(errno("ECONNRESET"), "127.0.0.1", 4000), undefined);
  assert.equal(listenProblem("EADDRINUSE", "127.0.0.1", 4000), undefined);
});
