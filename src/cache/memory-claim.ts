import { Worker } from "node:worker_threads";

/**
 * What a worker thread runs to claim memory: one word in every 4 KB of each
 * buffer is added 0 to, atomically, so that the system gives the page its
 * memory (the first write to a page is a page fault). Adding 0 atomically
 * leaves any byte the cache has written meanwhile as it is.
 */
const TOUCH_PAGES = `
const { workerData } = require("node:worker_threads");
for (const buffer of workerData) {
  const words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  for (let i = 0; i < words.length; i += 1024) Atomics.add(words, i, 0);
}
`;

/** A claim under way in its own thread. */
export interface MemoryClaim {
  /** Settles when every page has its memory, or the claim failed or was stopped. */
  readonly done: Promise<void>;
  /** Stops the claim (the memory already claimed stays). */
  stop(): Promise<void>;
}

/**
 * Claims the memory of `buffers` from the system in a worker thread, so
 * that the thread that writes them later never waits on a first write to a
 * page. A first write to a page is a page fault, which costs microseconds
 * on a virtual machine: filling a 256 MB cache from a request's path took
 * about a tenth of the gateway's throughput while it lasted (docs/caching.md).
 * The thread does not keep the process alive. `failed` hears why a claim
 * could not run; the cache then works as before, each page claimed when it
 * is first written.
 */
export function claimMemory(buffers: readonly SharedArrayBuffer[], failed: (err: Error) => void): MemoryClaim {
  let worker: Worker;
  try {
    worker = new Worker(TOUCH_PAGES, { eval: true, workerData: buffers, name: "switchyard-cache-memory" });
  } catch (err) {
    failed(err as Error);
    return { done: Promise.resolve(), stop: () => Promise.resolve() };
  }
  worker.unref();
  const done = new Promise<void>((resolve) => {
    worker.once("error", failed);
    worker.once("exit", () => resolve());
  });
  return {
    done,
    async stop() {
      await worker.terminate();
    },
  };
}
