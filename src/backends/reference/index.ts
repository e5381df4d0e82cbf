import { BackendError } from "../../core/errors.js";
import { Tensor, type Shape } from "../../core/tensor.js";
import type { KernelArgs, KernelName } from "../../kernels/contract.js";
import { type Backend, type KernelTable, liveEntry, runKernel } from "../backend.js";
import { KERNELS } from "./kernels/index.js";

/**
 * The reference backend: plain TypeScript loops over Float32Arrays. It is the specification
 * of every kernel; faster backends are tested against it. Accumulations are done in float64
 * (JS numbers) and stored as float32.
 */
export class ReferenceBackend implements Backend {
  readonly name = "reference";
  readonly description = "reference (plain TypeScript, 1 thread)";
  private buffers = new Map<number, Float32Array>();
  private nextId = 1;
  private readonly kernels: KernelTable<ReferenceBackend> = KERNELS;

  alloc(shape: Shape): Tensor {
    const t = new Tensor(this.name, this.nextId++, shape);
    this.buffers.set(t.id, new Float32Array(t.size));
    return t;
  }

  upload(t: Tensor, data: Float32Array): void {
    const buf = this.data(t);
    if (data.length !== buf.length) {
      throw new BackendError(`upload: ${t} holds ${buf.length} values, found ${data.length}`);
    }
    buf.set(data);
  }

  async read(t: Tensor): Promise<Float32Array> {
    return this.data(t).slice();
  }

  dispose(t: Tensor): void {
    this.buffers.delete(t.id);
  }

  run<K extends KernelName>(kernel: K, args: KernelArgs[K]): void {
    runKernel(this, this.kernels, kernel, args);
  }

  async close(): Promise<void> {
    this.buffers.clear();
  }

  /** The values of a tensor (the live buffer, for kernels). */
  data(t: Tensor): Float32Array {
    return liveEntry(this.name, this.buffers, t);
  }

  /**
   * The values of every tensor operand of a kernel call, by argument name (the live buffers):
   * `const { x: X, out: Y } = be.buffersOf(args)`.
   */
  buffersOf<A extends object>(args: A): Buffers<A> {
    const views: Record<string, Float32Array> = {};
    for (const [name, value] of Object.entries(args)) if (value instanceof Tensor) views[name] = this.data(value);
    return views as Buffers<A>;
  }
}

/** The tensor arguments of a kernel call, as Float32Arrays. */
export type Buffers<A> = { [K in keyof A as A[K] extends Tensor ? K : never]: Float32Array };
