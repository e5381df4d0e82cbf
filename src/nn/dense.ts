import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import { BinaryLayer } from "./binaryLayer.js";
import type { BinaryLayerOptions } from "./binaryWeights.js";
import { savedByForward, type ForwardContext } from "./layer.js";

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
export class Dense extends BinaryLayer<DenseOptions> {
  constructor(backend: Backend, name: string, opts: DenseOptions) {
    const { inputs, units } = opts;
    super(backend, name, opts, { shape: [inputs, units], fanIn: inputs, fanOut: units });
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
}
