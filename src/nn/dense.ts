import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import { weightsForPass, type BinaryLayerOptions } from "./binaryWeights.js";
import { savedByForward, type ForwardContext, type Layer } from "./layer.js";
import { binaryUpdate, disposeParams, type Param } from "./param.js";
import { Workspace } from "./workspace.js";

export interface DenseOptions extends BinaryLayerOptions {
  inputs: number;
  units: number;
}

/**
 * Fully connected layer with BinaryConnect weights (paper sections 2.3-2.4).
 *   forward:  y[B,U] = x[B,I] . Wb[I,U] (+ b),  Wb = binarize(W) (or W when binarization is none)
 *   backward: dWb = x^T . dy;  dx = dy . Wb^T;  db = sum_B dy
 * Straight-through estimator: the gradient with respect to Wb is applied to W unchanged.
 * With binary weights the two products by Wb are binaryMatmul (additions and subtractions of
 * the inputs, paper section 2.6); the weight gradient x^T . dy stays a float product.
 */
export class Dense implements Layer {
  readonly W: Param;
  readonly b: Param | null;
  /** The weights used by the last forward pass (W itself when they are real). */
  private wUsed: Tensor;
  private readonly wb: Tensor;
  private readonly ws: Workspace;
  private x: Tensor | null = null;

  constructor(
    private readonly backend: Backend,
    readonly name: string,
    readonly opts: DenseOptions,
  ) {
    const { inputs, units } = opts;
    const binary = binaryUpdate(opts, inputs, units);
    this.W = makeParam(backend, `${name}.W`, [inputs, units], binary);
    this.b = opts.bias ? makeParam(backend, `${name}.b`, [units], null) : null;
    this.wb = backend.alloc([inputs, units]);
    this.wUsed = this.W.value;
    this.ws = new Workspace(backend);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const w = this.weightsFor(ctx);
    const y = this.ws.get("y", [x.shape[0], this.opts.units]);
    if (w === this.wb) this.backend.run("binaryMatmul", { a: x, wb: w, out: y, transB: false });
    else this.backend.run("matmul", { a: x, b: w, out: y, transA: false, transB: false, accumulate: false });
    if (this.b) this.backend.run("biasAdd", { x: y, bias: this.b.value, out: y });
    this.x = x;
    this.wUsed = w;
    return y;
  }

  backward(dy: Tensor): Tensor | null {
    const x = savedByForward(this.x, this.name);
    const be = this.backend;
    be.run("matmul", { a: x, b: dy, out: this.W.grad, transA: true, transB: false, accumulate: false });
    if (this.b) be.run("columnSum", { x: dy, out: this.b.grad });
    if (!this.opts.inputGrad) return null;
    const dx = this.ws.get("dx", x.shape);
    if (this.wUsed === this.wb) be.run("binaryMatmul", { a: dy, wb: this.wb, out: dx, transB: true });
    else be.run("matmul", { a: dy, b: this.wUsed, out: dx, transA: false, transB: true, accumulate: false });
    return dx;
  }

  /** Wb per the weight mode: binarize into the Wb buffer, or W itself when real. */
  private weightsFor(ctx: ForwardContext): Tensor {
    return weightsForPass(
      this.backend,
      this.W.value,
      this.wb,
      this.opts.binarization,
      this.opts.H,
      ctx,
      this.opts.randomSlot,
    );
  }

  params(): Param[] {
    return this.b ? [this.W, this.b] : [this.W];
  }

  buffers(): { name: string; tensor: Tensor }[] {
    return [];
  }

  dispose(): void {
    disposeParams(this.backend, this.params());
    this.backend.dispose(this.wb);
    this.ws.dispose();
  }
}

export function makeParam(backend: Backend, name: string, shape: number[], binary: Param["binary"]): Param {
  return {
    name,
    binary,
    value: backend.alloc(shape),
    grad: backend.alloc(shape),
    m: backend.alloc(shape),
    v: backend.alloc(shape),
  };
}
