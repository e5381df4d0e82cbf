import { BackendError } from "../../core/errors.js";
import type { KernelFunction } from "./signatures.js";

/** The most threads a pool serves (the size of the control block depends on it). */
export const MAX_THREADS = 64;

/**
 * The control block: a small region of the shared memory through which the main thread hands
 * a kernel call to the workers. Int32 words: the kernel index (`op`, -1 = stop), argument
 * counts, the `done` counter, an error word, a work counter for kernels that share their work
 * dynamically (zeroed before every call), and one sequence word per thread; then Float64
 * slots: the arguments common to all threads, and `maxExtra` per-thread arguments (its range
 * and scratch) for each thread.
 */
export const CONTROL_LAYOUT = {
  op: 0,
  nCommon: 1,
  nExtra: 2,
  done: 3,
  error: 4,
  counter: 5,
  seq: 8,
  ints: 8 + MAX_THREADS,
  f64Byte: (8 + MAX_THREADS) * 4,
  maxCommon: 32,
  maxExtra: 8,
  f64s: 32 + MAX_THREADS * 8,
  /**
   * How long a thread spins on the control block before it sleeps in Atomics.wait. 1 ms keeps
   * the threads awake through a training step's gaps between kernels: on the 2-vCPU dev VM a
   * thread that slept could take far longer to wake (the host deschedules an idle vCPU), and
   * 0.05 ms -> 1 ms cut the MLP step's mean 26.1 -> 24.6 ms and its 90th percentile ~30 -> ~26 ms
   * (4 alternating runs of 300 steps). The cost: up to 1 ms of spinning after the last call.
   */
  spinMs: 1,
} as const;

/** Bytes of the control block. */
export const CONTROL_BYTES = CONTROL_LAYOUT.f64Byte + CONTROL_LAYOUT.f64s * 8;

/** How long the main thread waits for the workers before it reports them as stuck. */
const STUCK_MS = 10 * 60 * 1000;

/** The main thread's waits for the workers are slices of this length (Atomics.wait's timeout). */
const WAIT_SLICE_MS = 1000;

/**
 * The time spent waiting for the workers, counted slice by slice: a gap between two looks at the
 * clock longer than two slices is a suspension of the whole process (SIGSTOP or Ctrl-Z, a
 * machine's sleep), in which the workers were stopped too; it counts as two slices, so that a
 * training resumed after a long pause is not reported as stuck.
 */
export class WaitClock {
  private waited = 0;
  constructor(
    private last: number,
    private readonly stuckMs = STUCK_MS,
  ) {}
  /** Records the clock at `now`; true once the waits add up past stuckMs. */
  tick(now: number): boolean {
    this.waited += Math.min(Math.max(0, now - this.last), 2 * WAIT_SLICE_MS);
    this.last = now;
    return this.waited > this.stuckMs;
  }
}

/** What a worker gets at start (worker.ts: `workerData`, or a Web Worker's first message). */
export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block. */
  control: number;
  /** The worker's thread index, 1..threads-1. */
  index: number;
  /** Kernel names by index. */
  names: readonly string[];
  layout: typeof CONTROL_LAYOUT;
}

/** A started worker as the pool sees it (a worker_threads Worker or a Web Worker). */
export interface PoolWorker {
  /** Resolves once the worker has instantiated the module; rejects with a BackendError if it fails to start. */
  ready: Promise<void>;
  terminate(): unknown;
  /** Lets the process exit while the worker runs (Node.js). */
  unref?(): void;
}

/**
 * Where the pool runs (host.ts: Node.js or a web page): how to start a worker on the shared
 * memory, and whether the main thread may block in Atomics.wait (not on a page's main thread).
 */
export interface WorkerHost {
  /** Starts a worker; `failed` is called (any number of times) if it fails or exits later. */
  spawn(data: WorkerData, failed: (why: string) => void): PoolWorker;
  readonly mainCanWait: boolean;
}

/**
 * N-1 worker threads that run shares of a kernel call next to the main thread, all on one
 * shared WebAssembly.Memory. Synchronization is Atomics.wait/notify on the control block (a
 * page's main thread, which may not block, spins instead). With one thread there are no
 * workers, and the memory may be an unshared one (a page that is not cross-origin isolated):
 * `remap` then renews the views after the memory grows.
 */
export class ThreadPool {
  private i32: Int32Array;
  private f64: Float64Array;
  private readonly workers: PoolWorker[] = [];
  private closed = false;
  /** Why a worker stopped, once one has (errors after start, e.g. out of memory). */
  private failure: string | undefined;

  private constructor(
    memory: WebAssembly.Memory,
    private readonly control: number,
    private readonly names: readonly string[],
    private readonly mainCanWait: boolean,
  ) {
    this.i32 = new Int32Array(memory.buffer, control, CONTROL_LAYOUT.ints);
    this.f64 = new Float64Array(memory.buffer, control + CONTROL_LAYOUT.f64Byte, CONTROL_LAYOUT.f64s);
  }

  /** Starts `threads - 1` workers through `host` (in Node.js unreferenced: they never keep the process alive). */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    control: number,
    threads: number,
    names: readonly string[],
    host: WorkerHost,
  ): Promise<ThreadPool> {
    const pool = new ThreadPool(memory, control, names, host.mainCanWait);
    const failed = (why: string) => {
      if (!pool.closed) pool.failure ??= why;
    };
    try {
      for (let index = 1; index < threads; index++) {
        pool.workers.push(host.spawn({ module, memory, control, index, names, layout: CONTROL_LAYOUT }, failed));
      }
      await Promise.all(pool.workers.map((w) => w.ready));
    } catch (e) {
      await pool.close();
      throw e;
    }
    for (const w of pool.workers) w.unref?.();
    return pool;
  }

  /** Number of threads, the main thread included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Byte offset of the work counter (an i32, zeroed before every call) for dynamically shared kernels. */
  get counterAddress(): number {
    return this.control + CONTROL_LAYOUT.counter * 4;
  }

  /** Renews the views of the control block after the memory grew (an unshared memory's old buffer is detached). */
  remap(memory: WebAssembly.Memory): void {
    if (this.i32.buffer === memory.buffer) return;
    this.i32 = new Int32Array(memory.buffer, this.control, CONTROL_LAYOUT.ints);
    this.f64 = new Float64Array(memory.buffer, this.control + CONTROL_LAYOUT.f64Byte, CONTROL_LAYOUT.f64s);
  }

  /**
   * Runs kernel `op`: thread t calls it with (...common, ...parts[t]); the main thread runs
   * parts[0] itself (through `main`), workers 1..parts.length-1 the others. Returns when all
   * are done.
   */
  run(op: number, main: KernelFunction, common: readonly number[], parts: readonly (readonly number[])[]): void {
    if (this.closed) throw new BackendError("the wasm backend is closed", "create a new backend");
    if (this.failure) throw new BackendError(this.failure, "create a new backend");
    const L = CONTROL_LAYOUT,
      i32 = this.i32,
      f64 = this.f64;
    Atomics.store(i32, L.counter, 0);
    if (parts.length === 1) {
      main(...common, ...parts[0]);
      return;
    }
    if (parts.length > this.threads || common.length > L.maxCommon || parts[0].length > L.maxExtra) {
      throw new BackendError(
        `thread pool: call too large (${parts.length} parts, ${common.length}+${parts[0].length} arguments)`,
      );
    }
    f64.set(common, 0);
    for (let t = 1; t < parts.length; t++) f64.set(parts[t], L.maxCommon + t * L.maxExtra);
    i32[L.op] = op;
    i32[L.nCommon] = common.length;
    i32[L.nExtra] = parts[0].length;
    i32[L.error] = 0;
    Atomics.store(i32, L.done, 0);
    for (let t = 1; t < parts.length; t++) {
      Atomics.add(i32, L.seq + t, 1);
      Atomics.notify(i32, L.seq + t, 1);
    }
    try {
      main(...common, ...parts[0]);
    } finally {
      this.waitDone(parts.length - 1);
    }
    const failed = Atomics.load(i32, L.error);
    if (failed !== 0) throw new BackendError(`wasm kernel ${this.names[op]} failed on worker thread ${failed}`);
  }

  /** Stops the workers and waits for them to exit. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.workers.length === 0) return;
    const L = CONTROL_LAYOUT;
    Atomics.store(this.i32, L.op, -1);
    for (let t = 1; t <= this.workers.length; t++) {
      Atomics.add(this.i32, L.seq + t, 1);
      Atomics.notify(this.i32, L.seq + t);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private waitDone(expected: number): void {
    const i32 = this.i32,
      at = CONTROL_LAYOUT.done,
      clock = new WaitClock(Date.now());
    const until = performance.now() + CONTROL_LAYOUT.spinMs;
    for (let spin = 1; Atomics.load(i32, at) < expected; spin++) {
      if ((spin & 63) === 0 && performance.now() > until) break;
    }
    if (!this.mainCanWait) {
      this.spinDone(expected, clock);
      return;
    }
    for (;;) {
      const done = Atomics.load(i32, at);
      if (done >= expected) return;
      Atomics.wait(i32, at, done, WAIT_SLICE_MS);
      if (clock.tick(Date.now())) throw stuck();
    }
  }

  /** waitDone's end where the main thread may not block (a page's): spins until the workers are done. */
  private spinDone(expected: number, clock: WaitClock): void {
    const i32 = this.i32,
      at = CONTROL_LAYOUT.done;
    for (let spin = 1; Atomics.load(i32, at) < expected; spin++) {
      if ((spin & 1023) === 0 && clock.tick(Date.now())) throw stuck();
    }
  }
}

function stuck(): BackendError {
  return new BackendError(
    `wasm worker threads did not finish a kernel in ${STUCK_MS / 1000} s`,
    "a worker thread may have died; create a new backend",
  );
}
