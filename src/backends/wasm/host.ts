import type { Worker as NodeWorker } from "node:worker_threads";
import { BackendError } from "../../core/errors.js";
import { MAX_THREADS, type PoolWorker, type WorkerData, type WorkerHost } from "./threads.js";
import { WEB_WORKER_SOURCE, WORKER_SOURCE } from "./worker.js";

/**
 * Where the wasm backend runs, found once at run time:
 * - Node.js: worker_threads workers on a shared memory (as the backend always did); default
 *   threads os.availableParallelism().
 * - a web page (or any engine without Node.js): Web Workers loaded from a Blob URL of
 *   WEB_WORKER_SOURCE, on a shared memory, where the page is cross-origin isolated
 *   (`crossOriginIsolated`, which needs the headers Cross-Origin-Opener-Policy: same-origin and
 *   Cross-Origin-Embedder-Policy: require-corp or credentialless: browsers give
 *   SharedArrayBuffer and shared WebAssembly memories to such pages only); default threads
 *   navigator.hardwareConcurrency. Elsewhere one thread, on an unshared memory (module.ts
 *   makes the kernels module import one).
 *
 * The Node.js modules are loaded by dynamic imports of a computed name, which bundlers (Vite,
 * marked @vite-ignore) leave alone: a browser bundle of the backend needs none of them.
 */
export interface Host extends WorkerHost {
  readonly kind: "node" | "web";
  /** Threads when the options do not say (the main thread included, at most MAX_THREADS). */
  readonly defaultThreads: number;
  /** Whether the memory is shared (SharedArrayBuffer), so that workers can run kernels on it. */
  readonly sharedMemory: boolean;
  /** Why there can be no workers (when sharedMemory is false). */
  readonly noThreads?: string;
}

/** Imports a Node.js built-in module (only ever called in Node.js). */
export function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

/** Whether this is Node.js (or an engine that implements its modules, as Bun and Deno do). */
export function isNode(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

let found: Promise<Host> | undefined;

/** The host of this process or page (found once). */
export function currentHost(): Promise<Host> {
  found ??= isNode() ? nodeHost() : Promise.resolve(webHost());
  return found;
}

async function nodeHost(): Promise<Host> {
  const [{ Worker }, { availableParallelism }] = await Promise.all([
    importNode<typeof import("node:worker_threads")>("node:worker_threads"),
    importNode<typeof import("node:os")>("node:os"),
  ]);
  return {
    kind: "node",
    defaultThreads: Math.min(MAX_THREADS, availableParallelism()),
    sharedMemory: true,
    mainCanWait: true,
    spawn(workerData: WorkerData, failed: (why: string) => void): PoolWorker {
      const w: NodeWorker = new Worker(WORKER_SOURCE, { eval: true, workerData });
      w.on("error", (e) => failed(`a wasm worker thread failed: ${e.message}`));
      w.on("exit", (code) => failed(`a wasm worker thread exited (code ${code})`));
      const ready = new Promise<void>((resolve, reject) => {
        w.once("message", () => resolve());
        w.once("error", (e) => reject(new BackendError(`a wasm worker thread failed to start: ${e.message}`)));
        w.once("exit", (code) => reject(new BackendError(`a wasm worker thread exited during start (code ${code})`)));
      });
      return { ready, terminate: () => w.terminate(), unref: () => w.unref() };
    },
  };
}

/** The hint of the errors about threads in a page that is not cross-origin isolated. */
export const ISOLATION_HINT =
  "leave `threads` out (one thread, no workers), use the reference backend, or serve the page cross-origin isolated " +
  "(headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";

function webHost(): Host {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const noThreads =
    typeof SharedArrayBuffer !== "function" || g.crossOriginIsolated !== true
      ? "the page is not cross-origin isolated (crossOriginIsolated is not true), so it has no SharedArrayBuffer or shared WebAssembly memory"
      : typeof Worker !== "function"
        ? "this engine has no Web Workers"
        : undefined;
  const cores = Math.floor(g.navigator?.hardwareConcurrency ?? 1);
  return {
    kind: "web",
    defaultThreads: noThreads ? 1 : Math.max(1, Math.min(MAX_THREADS, cores)),
    sharedMemory: noThreads === undefined,
    noThreads,
    mainCanWait: noThreads === undefined && canBlock(),
    spawn: spawnWebWorker,
  };
}

/** Whether this thread may block in Atomics.wait (a worker may; a page's main thread may not: it throws). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // 0 != 1: returns "not-equal" at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

let workerUrl: string | undefined;

function spawnWebWorker(data: WorkerData, failed: (why: string) => void): PoolWorker {
  workerUrl ??= URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: "text/javascript" }));
  let w: Worker;
  try {
    w = new Worker(workerUrl, { name: `binaryconnect wasm ${data.index}` });
  } catch (e) {
    throw new BackendError(
      `cannot start a Web Worker for the wasm backend: ${(e as Error).message}`,
      "a Content-Security-Policy must allow blob: workers (worker-src blob:), or leave `threads` out for one thread",
    );
  }
  const ready = new Promise<void>((resolve, reject) => {
    w.onmessage = () => {
      w.onmessage = null;
      resolve();
    };
    w.onerror = (e) => {
      e.preventDefault();
      const why = `a wasm Web Worker failed: ${e.message || "error"}`;
      failed(why);
      reject(new BackendError(why));
    };
    w.onmessageerror = () => reject(new BackendError("a wasm Web Worker could not receive the module and memory"));
  });
  w.postMessage(data);
  return { ready, terminate: () => w.terminate() };
}
