import { BackendError, OptionError } from "../../core/errors.js";
import { Tensor, type Shape } from "../../core/tensor.js";
import { KERNEL_NAMES, type KernelArgs, type KernelName } from "../../kernels/contract.js";
import { type Backend, type KernelTable, liveEntry, runKernel } from "../backend.js";
import { Allocator } from "./allocator.js";
import { KERNELS } from "./kernels/index.js";
import { instantiate, kernelsModule, MODULE_MAX_BYTES, PAGE_BYTES } from "./module.js";
import type { Drop, DropLast, KernelExports, KernelFunction, KernelParams, Prefixes } from "./signatures.js";
import { resolveSimd, SIMD_CHOICES, type SimdChoice, type SimdLevel } from "./simd.js";
import { currentHost, ISOLATION_HINT } from "./host.js";
import { CONTROL_BYTES, MAX_THREADS, ThreadPool } from "./threads.js";

/** Options of `WasmBackend.create`. */
export interface WasmBackendOptions {
  /**
   * Threads, the main thread included (default, at most 64: in Node.js os.availableParallelism();
   * in a cross-origin isolated page navigator.hardwareConcurrency; in any other page 1, the only
   * number allowed there).
   */
  threads?: number;
  /** The most memory the backend may use, in MiB (default 2048, at most 4096). */
  maxMemoryMiB?: number;
  /** Relaxed SIMD (fused multiply-add in the matrix products) or baseline SIMD128 (default "auto": relaxed where accepted; see simd.ts). */
  simd?: SimdChoice;
}

const OPTION_KEYS = ["threads", "maxMemoryMiB", "simd"] as const;
const DEFAULT_MAX_MEMORY_MIB = 2048;
const INITIAL_PAGES = 64;

interface Scratch {
  ptr: number;
  bytes: number;
}

/**
 * The WebAssembly backend: SIMD128 kernels (compiled from wasm/, AssemblyScript) on one shared
 * WebAssembly.Memory. Tensors are blocks of that memory (see allocator.ts). Large kernel calls
 * are split across threads: the main thread runs one share and worker threads the others
 * (threads.ts), synchronized with Atomics on a control block. Runs in Node.js (worker_threads)
 * and in web pages (host.ts: Web Workers where the page is cross-origin isolated, else one
 * thread on an unshared memory); the same kernels, so the same numbers.
 */
export class WasmBackend implements Backend {
  readonly name = "wasm";
  readonly description: string;
  /** Bytes of scratch matmul needs per thread. */
  readonly matmulScratchBytes: number;
  /** Bytes of scratch the convolutions need per thread. */
  readonly convScratchBytes: number;
  /** The SIMD the kernels use ("relaxed": fused multiply-add in the products). */
  readonly simd: SimdLevel;
  private readonly kernels: KernelTable<WasmBackend> = KERNELS;
  private readonly blocks = new Map<number, number>(); // tensor id -> byte offset
  private readonly scratch: Scratch[] = [];
  private shared: Scratch | undefined;
  private view: Float32Array;
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly exports: KernelExports,
    private readonly allocator: Allocator,
    private readonly pool: ThreadPool,
    simd: SimdLevel,
  ) {
    this.simd = simd;
    this.view = new Float32Array(memory.buffer);
    this.matmulScratchBytes = exports.matmulScratchBytes();
    this.convScratchBytes = exports.convScratchBytes();
    const n = pool.threads;
    const simdLabel = simd === "relaxed" ? "SIMD128 + relaxed FMA" : "SIMD128";
    this.description = `wasm (${simdLabel}, ${n} thread${n === 1 ? "" : "s"})`;
  }

  /** Compiles (once) and instantiates the kernels, and starts threads-1 worker threads. */
  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const { threads: asked, maxBytes, simd: choice } = checkOptions(options);
    const host = await currentHost();
    const threads = asked ?? host.defaultThreads;
    if (threads > 1 && !host.sharedMemory) {
      throw new BackendError(
        `WasmBackend.create: ${threads} threads need workers on a shared memory, but ${host.noThreads}`,
        ISOLATION_HINT,
      );
    }
    const simd = await resolveSimd(choice);
    const module = await kernelsModule(simd, host.sharedMemory);
    const memory = new WebAssembly.Memory({
      initial: INITIAL_PAGES,
      maximum: maxBytes / PAGE_BYTES,
      shared: host.sharedMemory,
    });
    const exports = instantiate(module, memory);
    let backend: WasmBackend | undefined;
    const allocator = new Allocator(exports.heapBase(), maxBytes, (end) =>
      growMemory(memory, end, maxBytes, () => backend?.refreshView()),
    );
    const control = allocator.alloc(CONTROL_BYTES);
    new Int32Array(memory.buffer, control, CONTROL_BYTES / 4).fill(0);
    const pool = await ThreadPool.start(module, memory, control, threads, KERNEL_NAMES, host);
    backend = new WasmBackend(memory, exports, allocator, pool, simd);
    return backend;
  }

  /** Number of threads, the main thread included. */
  get threads(): number {
    return this.pool.threads;
  }

  /** Byte offset of the shared work counter that dynamically shared kernels (matmul) take chunks from. */
  get workCounter(): number {
    return this.pool.counterAddress;
  }

  alloc(shape: Shape): Tensor {
    this.checkOpen();
    const t = new Tensor(this.name, this.nextId++, shape);
    const ptr = this.allocator.alloc(t.size * 4);
    this.view.fill(0, ptr / 4, ptr / 4 + t.size);
    this.blocks.set(t.id, ptr);
    return t;
  }

  upload(t: Tensor, data: Float32Array): void {
    const ptr = this.ptr(t);
    if (data.length !== t.size) throw new BackendError(`upload: ${t} holds ${t.size} values, found ${data.length}`);
    this.view.set(data, ptr / 4);
  }

  async read(t: Tensor): Promise<Float32Array> {
    const ptr = this.ptr(t);
    return this.view.slice(ptr / 4, ptr / 4 + t.size);
  }

  dispose(t: Tensor): void {
    const ptr = this.ptr(t);
    this.blocks.delete(t.id);
    this.allocator.release(ptr);
  }

  run<K extends KernelName>(kernel: K, args: KernelArgs[K]): void {
    this.checkOpen();
    runKernel(this, this.kernels, kernel, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.blocks.clear();
    await this.pool.close();
  }

  /** Bytes of the shared memory in live tensors and scratch (for tests and diagnostics). */
  get usedBytes(): number {
    return this.allocator.usedBytes;
  }

  /** The byte offset of a live tensor of this backend. */
  readonly ptr = (t: Tensor): number => {
    return liveEntry(this.name, this.blocks, t);
  };

  /**
   * Runs a kernel export: thread t calls it with (...common, ...parts[t]), plus, when
   * scratchBytes > 0, its scratch block of at least that many bytes as the last argument (with
   * 0, as in matmul's packing phase, the scratch argument is left out: the export reads 0).
   * One part runs on the main thread only. The arguments are typed by the export's declaration
   * (KernelParams): `common` is a prefix of its parameters, each part the rest (less the scratch
   * when scratchBytes is given), so a wrong count or a non-0/1 bool fails the type check.
   */
  dispatch<K extends KernelName, const C extends Prefixes<KernelParams<K>>>(
    kernel: K,
    common: C,
    parts: readonly Readonly<Drop<KernelParams<K>, C>>[],
  ): void;
  dispatch<K extends KernelName, const C extends Prefixes<KernelParams<K>>>(
    kernel: K,
    common: C,
    parts: readonly Readonly<DropLast<Drop<KernelParams<K>, C>>>[],
    scratchBytes: number,
  ): void;
  dispatch(
    kernel: KernelName,
    common: readonly number[],
    parts: readonly (readonly number[])[],
    scratchBytes = 0,
  ): void {
    if (scratchBytes > 0) parts = parts.map((p, t) => [...p, this.scratchFor(t, scratchBytes)]);
    this.pool.run(KERNEL_NAMES.indexOf(kernel), this.exports[kernel] as KernelFunction, common, parts);
  }

  /** Bytes of scratch binaryMatmul needs per thread for K inputs and N units. */
  binaryMatmulScratchBytes(K: number, N: number): number {
    return this.exports.binaryMatmulScratchBytes(K, N);
  }

  /** Bytes of scratch a convolution's lookup-table product needs per thread for K inputs and `units` outputs per position. */
  convLutScratchBytes(K: number, units: number): number {
    return this.exports.convLutScratchBytes(K, units);
  }

  /** Floats of the Winograd filter gradient's shared work area for blocks of `tiles` tiles, C input and Co output channels. */
  winogradWorkFloats(tiles: number, C: number, Co: number): number {
    return this.exports.winogradWorkFloats(tiles, C, Co);
  }

  /** Bytes of scratch Winograd's convolution product needs per thread for blocks of `block` tiles, K input and Nc output channels. */
  winogradProductScratchBytes(block: number, K: number, Nc: number): number {
    return this.exports.winogradProductScratchBytes(block, K, Nc);
  }

  /** Floats of the shared work area the filters' transforms of Winograd's convolution product write for K input and Nc output channels. */
  winogradFilterFloats(K: number, Nc: number): number {
    return this.exports.winogradFilterFloats(K, Nc);
  }

  /** Bytes of scratch the filters' transforms of Winograd's convolution product need per thread for Nc output channels. */
  winogradFilterScratchBytes(Nc: number): number {
    return this.exports.winogradFilterScratchBytes(Nc);
  }

  /** Bytes of the shared block of Winograd's product from binary filters' signs (WINOGRAD_SIGNS) for K input and Nc output channels. */
  winogradSignBytes(K: number, Nc: number): number {
    return this.exports.winogradSignBytes(K, Nc);
  }

  /** Bytes of scratch Winograd's product from the signs needs per thread beyond winogradProductScratchBytes. */
  winogradSignScratchBytes(K: number, Nc: number): number {
    return this.exports.winogradSignScratchBytes(K, Nc);
  }

  /** Bytes of scratch the Winograd filter gradient's grouped form needs per thread for blocks of `block` tiles, C input and Co output channels. */
  winogradGroupScratchBytes(block: number, C: number, Co: number): number {
    return this.exports.winogradGroupScratchBytes(block, C, Co);
  }

  /** The i32 at byte offset `ptr` (4-aligned) of the memory: a flag a kernel set in scratch. */
  readInt32(ptr: number): number {
    return Atomics.load(new Int32Array(this.memory.buffer, ptr, 1), 0);
  }

  /** Stores the i32 `value` at byte offset `ptr` (4-aligned) of the memory. */
  writeInt32(ptr: number, value: number): void {
    Atomics.store(new Int32Array(this.memory.buffer, ptr, 1), 0, value);
  }

  /** A scratch block that every thread of a call may read and write (one per backend), grown to at least `bytes`. */
  sharedScratch(bytes: number): number {
    this.shared = this.grown(this.shared, bytes);
    return this.shared.ptr;
  }

  /** The scratch block of thread t, grown to at least `bytes`. */
  private scratchFor(t: number, bytes: number): number {
    this.scratch[t] = this.grown(this.scratch[t], bytes);
    return this.scratch[t].ptr;
  }

  /** `s` if it holds `bytes`, else a new block of at least `bytes` (and twice the old one). */
  private grown(s: Scratch | undefined, bytes: number): Scratch {
    if (s && s.bytes >= bytes) return s;
    if (s) this.allocator.release(s.ptr);
    const size = Math.max(bytes, s ? 2 * s.bytes : 0);
    return { ptr: this.allocator.alloc(size), bytes: size };
  }

  private refreshView(): void {
    this.view = new Float32Array(this.memory.buffer);
    this.pool.remap(this.memory);
  }

  private checkOpen(): void {
    if (this.closed) throw new BackendError("the wasm backend is closed", "create a new backend");
  }
}

/** Grows the memory so that bytes [0, end) exist (by at least a quarter, within maxBytes). */
function growMemory(memory: WebAssembly.Memory, end: number, maxBytes: number, grown: () => void): void {
  const have = memory.buffer.byteLength;
  if (end <= have) return;
  const want = Math.min(maxBytes, Math.max(end, have + have / 4));
  try {
    memory.grow(Math.ceil((want - have) / PAGE_BYTES));
  } catch (e) {
    throw new BackendError(
      `wasm backend: cannot grow memory to ${want} bytes: ${(e as Error).message}`,
      "lower maxMemoryMiB or free memory",
    );
  }
  grown();
}

function checkOptions(options: WasmBackendOptions): {
  threads: number | undefined;
  maxBytes: number;
  simd: SimdChoice;
} {
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new OptionError(`wasm backend: unknown option "${key}"`, `known options: ${OPTION_KEYS.join(", ")}`);
    }
  }
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)) {
    throw new OptionError(
      `wasm backend: threads must be an integer from 1 to ${MAX_THREADS}, found ${threads}`,
      "one thread per core is the fastest (the default: as many threads as cores)",
    );
  }
  const maxMiB = options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB;
  const maxBytes = maxMiB * 2 ** 20;
  if (!Number.isInteger(maxMiB) || maxBytes < INITIAL_PAGES * PAGE_BYTES || maxBytes > MODULE_MAX_BYTES) {
    throw new OptionError(
      `wasm backend: maxMemoryMiB must be an integer in [${(INITIAL_PAGES * PAGE_BYTES) / 2 ** 20}, ${MODULE_MAX_BYTES / 2 ** 20}], found ${maxMiB}`,
    );
  }
  const simd = options.simd ?? "auto";
  if (!SIMD_CHOICES.includes(simd)) {
    throw new OptionError(
      `wasm backend: simd must be one of ${SIMD_CHOICES.join(", ")}, found ${JSON.stringify(simd)}`,
    );
  }
  return { threads, maxBytes, simd };
}
