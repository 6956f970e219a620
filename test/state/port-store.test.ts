import { MessageChannel } from "node:worker_threads";
import { serveStore, PortStore } from "../../src/state/port-store.ts";
import { MemoryStore } from "../../src/state/store.ts";
import { runStoreTests } from "./store.case.ts";

// The same conformance suite as every backend: a store across a port behaves exactly as the one behind it.
runStoreTests("port (another thread's memory store)", (now) => {
  const { port1, port2 } = new MessageChannel();
  serveStore(port1, new MemoryStore(now));
  return new PortStore(port2);
});
