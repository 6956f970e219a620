import assert from "node:assert/strict";
import { test } from "node:test";
import { systemClock } from "../../src/time/clock.ts";

test("the system clock's timers keep the process alive unless they are for background work", () => {
  const awaited = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
  const background = systemClock.setTimeout(() => {}, 60_000, { background: true }) as NodeJS.Timeout;
  try {
    assert.equal(awaited.hasRef(), true);
    assert.equal(background.hasRef(), false);
  } finally {
    systemClock.clearTimeout(awaited);
    systemClock.clearTimeout(background);
  }
});
