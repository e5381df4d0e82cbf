import { ShapeError } from "./errors.js";

/** A tensor shape: row-major, last axis fastest. */
export type Shape = readonly number[];

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid dimension ${d} in shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A handle to a float32 buffer owned by a backend. The values live where the backend keeps
 * them (a JS array, WebAssembly memory, GPU memory) and are reached only through the backend:
 * `backend.upload` / `backend.read` (asynchronous) / kernels. The handle itself holds no data.
 */
export class Tensor {
  readonly size: number;
  constructor(
    /** The backend that owns the buffer (its `name`). */
    readonly backend: string,
    /** Opaque id of the buffer inside that backend. */
    readonly id: number,
    readonly shape: Shape,
  ) {
    this.size = sizeOf(shape);
  }
  toString(): string {
    return `Tensor(${this.backend}#${this.id} ${shapeToString(this.shape)})`;
  }
}

/**
 * The same buffer seen with another shape of the same size (row-major data is unchanged): a
 * new handle with the owner's id, so every backend resolves it to the same buffer. A view is
 * not an owner: dispose the original, never the view. (Used to flatten NHWC images into [N, F]
 * rows, and to see [N, H, W, C] as [N H W, C] for per-channel kernels.)
 */
export function reshape(t: Tensor, shape: Shape): Tensor {
  const view = new Tensor(t.backend, t.id, shape);
  if (view.size !== t.size)
    throw new ShapeError(`reshape: ${t} holds ${t.size} values, the shape [${shape.join(", ")}] holds ${view.size}`);
  return view;
}
