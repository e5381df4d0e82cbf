import type { Backend } from "../backends/backend.js";
import type { Param } from "../nn/param.js";

export interface AdamOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/**
 * Adam (Kingma & Ba 2015, in Lasagne's form) over a set of parameters, with BinaryConnect's
 * treatment of binary weights (paper section 2.4, authors' code):
 *   W_new = clip(W + W_LR_scale * (W_adam - W), -H, H)  for binarized weights,
 *   plain Adam (no scale, no clip) for biases and batch-norm parameters.
 * One step counter t serves both groups (they are updated together every step).
 */
export class Adam {
  /** Number of steps taken (the next step uses t + 1). */
  t = 0;
  constructor(
    private readonly backend: Backend,
    private readonly params: Param[],
    readonly opts: AdamOptions = ADAM_DEFAULTS,
  ) {}

  step(lr: number): void {
    this.t++;
    // last layer first: the first layer's weights are then the freshest in cache when the next
    // step binarizes them (each parameter's update is independent of the others')
    for (let i = this.params.length - 1; i >= 0; i--) {
      const p = this.params[i];
      this.backend.run("adam", {
        param: p.value,
        grad: p.grad,
        m: p.m,
        v: p.v,
        lr,
        t: this.t,
        ...this.opts,
        lrScale: p.binary ? p.binary.lrScale : 1,
        clip: p.binary ? p.binary.clip : 0,
      });
    }
  }
}
