import { MemoryStore } from "../../src/state/store.ts";
import { runStoreTests } from "./store.case.ts";

runStoreTests("memory", (now) => new MemoryStore(now));
