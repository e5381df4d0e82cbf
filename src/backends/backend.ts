import { BackendError } from "../core/errors.js";
import type { Shape, Tensor } from "../core/tensor.js";
import type { KernelArgs, KernelName } from "../kernels/contract.js";
import { validateKernelArgs } from "../kernels/validate.js";

/**
 * The backend interface: buffers, kernels, dispatch. Nothing backend-specific leaks out:
 * tensors are opaque handles, values move to and from the host only through `upload` and the
 * asynchronous `read` (the training loop reads only metrics and, for checkpoints, parameters).
 */
export interface Backend {
  /** "reference" | "wasm" | ... */
  readonly name: string;
  /** A human-readable description (threads, adapter, ...). */
  readonly description: string;
  /** A new float32 tensor of this shape, zero-filled. */
  alloc(shape: Shape): Tensor;
  /** Copies host values into the tensor (sizes must match). */
  upload(t: Tensor, data: Float32Array): void;
  /** Copies the tensor's values to the host. */
  read(t: Tensor): Promise<Float32Array>;
  /** Frees the tensor's buffer; the handle must not be used again. */
  dispose(t: Tensor): void;
  /** Runs one kernel. Asynchronous backends may queue it; order is preserved. */
  run<K extends KernelName>(kernel: K, args: KernelArgs[K]): void;
  /** Releases every resource (threads, memory). */
  close(): Promise<void>;
}

/** One kernel's implementation on a backend `B`. */
export type KernelImpl<B, K extends KernelName> = (backend: B, args: KernelArgs[K]) => void;

/** A complete record of kernels: a backend that misses one fails the type check. */
export type KernelTable<B> = { [K in KernelName]: KernelImpl<B, K> };

/**
 * Runs `kernel` of a backend's table after checking its arguments against the contract (shapes,
 * sizes, scalars: src/kernels/validate.ts), so that every backend refuses the same bad calls.
 */
export function runKernel<B, K extends KernelName>(
  backend: B,
  table: KernelTable<B>,
  kernel: K,
  args: KernelArgs[K],
): void {
  validateKernelArgs(kernel, args);
  table[kernel](backend, args);
}

/** Convenience: allocate and upload in one call. */
export function tensorFrom(backend: Backend, shape: Shape, data: ArrayLike<number>): Tensor {
  const t = backend.alloc(shape);
  backend.upload(t, data instanceof Float32Array ? data : Float32Array.from(data));
  return t;
}

/**
 * What a backend keeps for a live tensor (its buffer, its byte offset): `live`'s entry under the
 * tensor's id, if the tensor belongs to the backend `name`; a BackendError for a disposed
 * tensor or one made by another backend.
 */
export function liveEntry<T>(name: string, live: ReadonlyMap<number, T>, t: Tensor): T {
  const entry = t.backend === name ? live.get(t.id) : undefined;
  if (entry === undefined)
    throw new BackendError(
      `${t} is not a live tensor of the ${name} backend`,
      "was it disposed, or made by another backend?",
    );
  return entry;
}
