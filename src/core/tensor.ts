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
