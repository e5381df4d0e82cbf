import type { Backend } from "../backends/backend.js";
import { sameShape, type Shape, type Tensor } from "../core/tensor.js";

/**
 * Activation buffers reused across steps: `get(name, shape)` returns the same tensor while
 * the shape is unchanged (a new batch size reallocates it).
 */
export class Workspace {
  private tensors = new Map<string, Tensor>();
  constructor(private readonly backend: Backend) {}

  get(name: string, shape: Shape): Tensor {
    const t = this.tensors.get(name);
    if (t && sameShape(t.shape, shape)) return t;
    if (t) this.backend.dispose(t);
    const fresh = this.backend.alloc(shape);
    this.tensors.set(name, fresh);
    return fresh;
  }

  dispose(): void {
    for (const t of this.tensors.values()) this.backend.dispose(t);
    this.tensors.clear();
  }
}
