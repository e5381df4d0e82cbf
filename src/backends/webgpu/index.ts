/// <reference types="@webgpu/types" />
import { BackendError, OptionError } from "../../core/errors.js";
import { Tensor, type Shape } from "../../core/tensor.js";
import type { KernelArgs, KernelName } from "../../kernels/contract.js";
import { type Backend, type KernelTable, liveEntry, runKernel } from "../backend.js";
import { requestAdapter, type AdapterChoice, type AdapterOptions } from "./adapter.js";
import { COPY_PROGRAM } from "./kernels/copy.js";
import { FILL_PROGRAM } from "./kernels/fill.js";
import { KERNELS } from "./kernels/index.js";
import { MATMUL_TILES, type MatmulTileName, type SplitKPolicy } from "./kernels/gemm.js";
import { BufferPool } from "./pool.js";
import { PARAM_BLOCK_BYTES, groups1d, type Program } from "./program.js";

/** Options of `WebGpuBackend.create`. */
export interface WebGpuBackendOptions extends AdapterOptions {
  /** An adapter already found (createBackend("auto") passes the one it probed). */
  adapter?: AdapterChoice;
  /** The matrix product's tile: "auto" (by output size, the default) or a fixed one (benchmarks). */
  matmulTile?: MatmulTileName | "auto";
  /** Split K for skinny products: "long" sums only (the default: kernels/gemm.ts pickSplitK says why), "auto" or "off". */
  matmulSplitK?: SplitKPolicy;
  /** MiB of released buffers kept for reuse (default 256). */
  poolMiB?: number;
  /** Added to `description` (createBackend("auto") says why it chose this backend). */
  note?: string;
}

const OPTION_KEYS = ["gpu", "dawnFlags", "adapter", "matmulTile", "matmulSplitK", "poolMiB", "note"] as const;

// GPUBufferUsage / GPUMapMode / GPUShaderStage values (the spec's numbers: no globals needed in Node).
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ = 0x1;
const COMPUTE_STAGE = 0x4;

/** Parameter blocks per submission: the queue is flushed when they are used up. */
const PARAM_SLOTS = 512;
/** Bind groups kept for reuse (then the cache starts over). */
const BIND_GROUP_CACHE = 8192;
const LIMITS_WANTED = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxStorageBuffersPerShaderStage",
] as const;

const LOST_HINT =
  "training can resume from the last checkpoint on another backend: binaryconnect train --resume DIR --backend wasm";
const OOM_HINT = "use a smaller batch or network, free tensors (dispose), or train on --backend wasm";

/** A GPU buffer bound to a dispatch: the buffer and the bytes the kernel may touch. */
interface Binding {
  buffer: GPUBuffer;
  size: number;
  write: boolean;
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/**
 * The WebGPU backend: every kernel of the contract as a WGSL compute shader (kernels/<name>.ts
 * is the glue, wgsl/<name>.ts the shader). Tensors are GPU storage buffers; parameters,
 * optimizer state and activations stay on the GPU, and `read` (mapAsync) is the only way back.
 *
 * Kernels are recorded into one compute pass and submitted together: when the host writes
 * (`upload`) or reads, or after PARAM_SLOTS dispatches. The queue runs everything in call order.
 * Each dispatch's scalar parameters take one 256-byte block of a uniform buffer, written just
 * before its submission.
 *
 * Errors are BackendErrors: no adapter (create), a lost device, out of memory (a tensor larger
 * than the adapter allows: at alloc; the device out of memory: at the next run/upload/read,
 * since WebGPU reports it asynchronously). After a lost device or an out-of-memory error the
 * backend refuses further work: resume from the last checkpoint, on this or another backend.
 */
export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  readonly description: string;
  /** The adapter, as shown in `description`. */
  readonly adapterLabel: string;
  /** True on a CPU implementation of WebGPU (lavapipe, SwiftShader): correct but slow. */
  readonly software: boolean;
  /** The largest tensor, in bytes. */
  readonly maxTensorBytes: number;
  /** The matrix product's tile choice. */
  readonly matmulTile: MatmulTileName | "auto";
  /** Split K for skinny matrix products (kernels/gemm.ts: pickSplitK). */
  readonly matmulSplitK: SplitKPolicy;
  /** Bytes of workgroup memory a shader may use (the adapter's limit). */
  readonly maxWorkgroupBytes: number;
  private readonly kernels: KernelTable<WebGpuBackend> = KERNELS;
  private readonly buffers = new Map<number, GPUBuffer>();
  private readonly pipelines = new Map<string, Pipeline>();
  /** Bind groups by program, parameter slot and buffers: a training step replays the same dispatches. */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private readonly pool: BufferPool;
  private readonly paramData = new ArrayBuffer(PARAM_SLOTS * PARAM_BLOCK_BYTES);
  private readonly paramU32 = new Uint32Array(this.paramData);
  private readonly paramI32 = new Int32Array(this.paramData);
  private readonly paramF32 = new Float32Array(this.paramData);
  private readonly paramBuffer: GPUBuffer;
  private paramSlots = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private toDestroy: GPUBuffer[] = [];
  private readonly pending = new Set<Promise<void>>();
  private failure: BackendError | null = null;
  private closed = false;
  private liveBytes = 0;
  private nextId = 1;
  /** The GPU instance: kept referenced while open (Dawn shuts down when it is collected). */
  private gpu: GPU | null;

  private constructor(
    private readonly device: GPUDevice,
    choice: AdapterChoice,
    options: WebGpuBackendOptions,
  ) {
    this.gpu = choice.gpu;
    this.adapterLabel = choice.label;
    this.software = choice.software;
    this.matmulTile = options.matmulTile ?? "auto";
    this.matmulSplitK = options.matmulSplitK ?? "long";
    this.pool = new BufferPool((options.poolMiB ?? 256) * 2 ** 20);
    this.maxWorkgroupBytes = device.limits.maxComputeWorkgroupStorageSize;
    this.maxTensorBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const kind = choice.software ? "software adapter: correct but slow" : "GPU";
    this.description = `webgpu (${choice.label}; ${kind})${options.note ? ` - ${options.note}` : ""}`;
    this.paramBuffer = device.createBuffer({ size: this.paramData.byteLength, usage: USAGE.UNIFORM | USAGE.COPY_DST });
    void device.lost.then((info) => {
      if (!this.closed)
        this.fail(
          new BackendError(
            `webgpu: the GPU device was lost (${info.reason}): ${info.message || "no message"}`,
            LOST_HINT,
          ),
        );
    });
    device.addEventListener("uncapturederror", (event) => {
      this.fail(classify((event as GPUUncapturedErrorEvent).error, "a GPU command failed"));
    });
  }

  /** Finds an adapter (unless given one), opens a device with the adapter's limits. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    checkOptions(options);
    const choice = options.adapter ?? (await requestAdapter(options));
    const { adapter } = choice;
    const requiredLimits: Record<string, number> = {};
    for (const name of LIMITS_WANTED) requiredLimits[name] = adapter.limits[name];
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits, label: "binaryconnect" });
    } catch (e) {
      throw new BackendError(
        `webgpu: the adapter ${choice.label} refused a device: ${(e as Error).message}`,
        "use --backend wasm",
      );
    }
    return new WebGpuBackend(device, choice, options);
  }

  alloc(shape: Shape): Tensor {
    return this.allocate(shape, true);
  }

  /** A tensor whose contents are undefined (scratch space of a kernel: no zero-fill). */
  scratch(shape: Shape): Tensor {
    return this.allocate(shape, false);
  }

  private allocate(shape: Shape, zero: boolean): Tensor {
    this.check();
    const t = new Tensor(this.name, this.nextId++, shape);
    const bytes = bufferBytes(t.size);
    if (bytes > this.maxTensorBytes) {
      throw new BackendError(
        `webgpu: out of memory: ${t} needs ${mib(bytes)} MiB, more than the largest buffer this adapter allows (${mib(this.maxTensorBytes)} MiB)`,
        OOM_HINT,
      );
    }
    let buffer = this.pool.take(bytes);
    if (buffer && zero) {
      this.encode(FILL_PROGRAM, [{ buffer, size: bytes, write: true }], [bytes / 4, 0], groups1d(bytes / 4, 256));
    } else if (!buffer) {
      this.device.pushErrorScope("out-of-memory");
      buffer = this.device.createBuffer({
        size: bytes,
        usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST,
        label: String(t),
      });
      const live = this.liveBytes;
      this.watch(
        this.device.popErrorScope(),
        (e) =>
          new BackendError(
            `webgpu: out of GPU memory allocating ${t} (${mib(bytes)} MiB, with ${mib(live)} MiB in live tensors): ${e.message}`,
            OOM_HINT,
          ),
      );
    }
    this.liveBytes += bytes;
    this.buffers.set(t.id, buffer);
    return t;
  }

  upload(t: Tensor, data: Float32Array): void {
    this.check();
    const buffer = this.buffer(t);
    if (data.length !== t.size) throw new BackendError(`upload: ${t} holds ${t.size} values, found ${data.length}`);
    if (t.size === 0) return;
    this.flush(); // the write must follow the commands recorded so far
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(t: Tensor): Promise<Float32Array> {
    this.check();
    const buffer = this.buffer(t);
    const bytes = t.size * 4;
    if (bytes === 0) return new Float32Array(0);
    this.flush();
    const staging = this.device.createBuffer({ size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(MAP_READ, 0, bytes);
    } catch (e) {
      staging.destroy();
      await this.settle();
      this.check();
      throw new BackendError(`webgpu: reading ${t} failed: ${(e as Error).message}`, LOST_HINT);
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    staging.destroy();
    await this.settle();
    this.check();
    return out;
  }

  dispose(t: Tensor): void {
    const buffer = this.buffer(t);
    this.buffers.delete(t.id);
    this.liveBytes -= buffer.size;
    this.release(buffer);
  }

  run<K extends KernelName>(kernel: K, args: KernelArgs[K]): void {
    this.check();
    runKernel(this, this.kernels, kernel, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failure) this.flush();
    for (const b of [...this.buffers.values(), ...this.pool.drain(), ...this.toDestroy, this.paramBuffer]) b.destroy();
    this.buffers.clear();
    this.bindGroups.clear();
    this.toDestroy = [];
    this.device.destroy(); // lets Node.js exit (a live device keeps Dawn's event loop running)
    this.gpu = null;
  }

  /** Bytes in live tensors (diagnostics, tests). */
  get usedBytes(): number {
    return this.liveBytes;
  }

  /** Waits until the GPU has done everything recorded so far, and reports any error it raised. */
  async sync(): Promise<void> {
    this.check();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.settle();
    this.check();
  }

  /**
   * Records one dispatch of `program`: `tensors` bind to @binding(1..) in the program's order,
   * `params` fill the uniform struct P in its field order. A read-only tensor that is also
   * written by the same dispatch (biasAdd with out = x) is read from a snapshot copy, since
   * WebGPU forbids binding one buffer as both; two written bindings of one tensor are an error.
   */
  dispatch(program: Program, tensors: readonly Tensor[], params: readonly number[], groups: readonly number[]): void {
    const bindings: Binding[] = tensors.map((t, i) => ({
      buffer: this.buffer(t),
      size: Math.max(4, t.size * 4),
      write: program.tensors[i].write,
    }));
    for (let i = 0; i < bindings.length; i++) {
      for (let j = 0; j < bindings.length; j++) {
        if (i === j || bindings[i].buffer !== bindings[j].buffer || !bindings[i].write) continue;
        if (bindings[j].write) {
          throw new BackendError(
            `${program.key}: ${program.tensors[i].name} and ${program.tensors[j].name} are the same tensor ${tensors[i]}; both are outputs`,
          );
        }
        bindings[j] = { ...bindings[j], buffer: this.snapshot(bindings[j]) };
      }
    }
    this.encode(program, bindings, params, groups);
  }

  /** A copy of a binding's bytes in a scratch buffer (released at once: see BufferPool). */
  private snapshot(b: Binding): GPUBuffer {
    const bytes = bufferBytes(b.size / 4);
    const copy =
      this.pool.take(bytes) ??
      this.device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    const words = b.size / 4;
    this.encode(
      COPY_PROGRAM,
      [
        { ...b, write: false },
        { buffer: copy, size: b.size, write: true },
      ],
      [words],
      groups1d(words, 256),
    );
    this.release(copy);
    return copy;
  }

  private encode(
    program: Program,
    bindings: readonly Binding[],
    params: readonly number[],
    groups: readonly number[],
  ): void {
    if (params.length !== program.params.length)
      throw new BackendError(`${program.key}: ${params.length} parameters given, ${program.params.length} declared`);
    const { pipeline, layout } = this.pipeline(program);
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    const slot = this.paramSlots++;
    const base = (slot * PARAM_BLOCK_BYTES) / 4;
    program.params.forEach(([, type], k) => {
      const v = params[k];
      if (type === "f32") this.paramF32[base + k] = v;
      else if (type === "i32") this.paramI32[base + k] = v;
      else this.paramU32[base + k] = v;
    });
    let key = `${program.key}|${slot}`;
    for (const b of bindings) key += `|${this.bufferId(b.buffer)}:${b.size}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [
        {
          binding: 0,
          resource: { buffer: this.paramBuffer, offset: slot * PARAM_BLOCK_BYTES, size: PARAM_BLOCK_BYTES },
        },
      ];
      for (const [i, b] of bindings.entries())
        entries.push({ binding: i + 1, resource: { buffer: b.buffer, offset: 0, size: b.size } });
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      group = this.device.createBindGroup({ layout, entries });
      this.bindGroups.set(key, group);
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    if (this.paramSlots === PARAM_SLOTS) this.flush();
  }

  /** Submits the recorded commands (with their parameter blocks). */
  private flush(): void {
    if (!this.encoder || !this.pass) return;
    this.pass.end();
    this.device.queue.writeBuffer(this.paramBuffer, 0, this.paramData, 0, this.paramSlots * PARAM_BLOCK_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.paramSlots = 0;
    for (const b of this.toDestroy) b.destroy();
    this.toDestroy = [];
  }

  private pipeline(program: Program): Pipeline {
    let p = this.pipelines.get(program.key);
    if (p) return p;
    const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: COMPUTE_STAGE, buffer: { type: "uniform" } }];
    for (const [i, t] of program.tensors.entries())
      entries.push({
        binding: i + 1,
        visibility: COMPUTE_STAGE,
        buffer: { type: t.write ? "storage" : "read-only-storage" },
      });
    this.device.pushErrorScope("validation");
    const layout = this.device.createBindGroupLayout({ entries, label: program.key });
    const module = this.device.createShaderModule({ code: program.source, label: program.key });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
      label: program.key,
    });
    this.watch(
      this.device.popErrorScope(),
      (e) => new BackendError(`webgpu: the ${program.key} shader was rejected (a bug in the backend): ${e.message}`),
    );
    p = { pipeline, layout };
    this.pipelines.set(program.key, p);
    return p;
  }

  /** A buffer's number (bind-group cache keys; never reused, so a destroyed buffer's entries are never hit). */
  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }

  /** Returns a buffer to the pool, or destroys it once the commands recorded so far are submitted. */
  private release(buffer: GPUBuffer): void {
    if (this.pool.put(buffer)) return;
    if (this.encoder) this.toDestroy.push(buffer);
    else buffer.destroy();
  }

  /** The buffer of a live tensor of this backend. */
  private buffer(t: Tensor): GPUBuffer {
    return liveEntry(this.name, this.buffers, t);
  }

  /** Turns an error scope's result into a recorded failure. */
  private watch(scope: Promise<GPUError | null>, toError: (e: GPUError) => BackendError): void {
    const p = scope.then(
      (e) => {
        if (e) this.fail(toError(e));
      },
      (e: unknown) => this.fail(new BackendError(`webgpu: ${(e as Error).message}`, LOST_HINT)),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits for the error scopes still open (so that read reports an error of the work it waited for). */
  private async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Records the first error; a root cause (a rejected shader) replaces an error that only follows from one. */
  private fail(error: BackendError): void {
    const consequence = (e: BackendError) => /due to a previous error/.test(e.message);
    if (!this.failure || (consequence(this.failure) && !consequence(error))) this.failure = error;
  }

  private check(): void {
    if (this.closed) throw new BackendError("the webgpu backend is closed", "create a new backend");
    if (this.failure) throw this.failure;
  }
}

function classify(e: GPUError, what: string): BackendError {
  if (e.constructor?.name === "GPUOutOfMemoryError" || /out of memory/i.test(e.message)) {
    return new BackendError(`webgpu: out of GPU memory: ${e.message}`, OOM_HINT);
  }
  return new BackendError(
    `webgpu: ${what}: ${e.message}`,
    "this is a bug in the webgpu backend; please report it with the message",
  );
}

/** Bytes of a tensor's buffer: at least 16, a multiple of 16. */
function bufferBytes(size: number): number {
  return Math.max(16, Math.ceil((size * 4) / 16) * 16);
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function checkOptions(options: WebGpuBackendOptions): void {
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new OptionError(
        `WebGpuBackend.create: unknown option "${key}"`,
        `known options: ${OPTION_KEYS.join(", ")}`,
      );
    }
  }
  const split = options.matmulSplitK;
  if (split !== undefined && !["long", "auto", "off"].includes(split)) {
    throw new OptionError(
      `WebGpuBackend.create: matmulSplitK must be "long", "auto" or "off", found "${String(split)}"`,
    );
  }
  const tile = options.matmulTile;
  if (tile !== undefined && tile !== "auto" && !(tile in MATMUL_TILES)) {
    throw new OptionError(
      `WebGpuBackend.create: matmulTile must be "auto" or one of ${Object.keys(MATMUL_TILES).join(", ")}, found "${tile}"`,
    );
  }
  const pool = options.poolMiB;
  if (pool !== undefined && !(Number.isInteger(pool) && pool >= 0)) {
    throw new OptionError(`WebGpuBackend.create: poolMiB must be an integer >= 0, found ${pool}`);
  }
}
