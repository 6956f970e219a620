import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createGateway } from "../../src/engine/create.ts";
import { MemoryStore, type Store } from "../../src/state/store.ts";

const config = { providers: { demo: { type: "demo" } }, models: { chat: { targets: ["demo/demo-1"] } } };

/** Wraps a store and records whether close() reached it. */
function watched(inner: Store): { store: Store; closed: () => boolean } {
  let closed = false;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "close") {
        return async () => {
          closed = true;
          await target.close();
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { store, closed: () => closed };
}

describe("engine and store ownership", () => {
  test("closing the gateway leaves a store passed in by the caller open", async () => {
    const { store, closed } = watched(new MemoryStore());
    await store.set("kept", "yes");
    const gw = await createGateway(config, { store });
    assert.equal(gw.engine.store, store);
    await gw.close();
    assert.equal(closed(), false);
    assert.equal(await store.get("kept"), "yes");
  });

  test("closing the gateway closes the store it created itself", async () => {
    const gw = await createGateway(config);
    await gw.engine.store.set("gone", "soon");
    await gw.close();
    // A closed memory store has let go of everything it held.
    assert.equal(await gw.engine.store.get("gone"), undefined);
  });
});
