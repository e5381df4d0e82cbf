import { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { withBackend, type EngineOptions } from "./options.js";
import { timeIt, type Timing } from "./stats.js";

/**
 * The benchmarked 3x3 convolution: batch 50, 128 -> 128 channels, 32x32, padding 1 (the
 * second layer of the paper's CIFAR-10 network). Each of the three kernels of a training step
 * does 2 N H W Cin Cout 9 floating-point operations.
 */
export const CONV_SHAPE = { N: 50, H: 32, W: 32, Cin: 128, Cout: 128, k: 3 } as const;
export const CONV_FLOPS =
  2 * CONV_SHAPE.N * CONV_SHAPE.H * CONV_SHAPE.W * CONV_SHAPE.Cin * CONV_SHAPE.Cout * CONV_SHAPE.k * CONV_SHAPE.k;
export const CONV_KERNELS = ["conv2d", "conv2dBackwardInput", "conv2dBackwardFilter"] as const;
export type ConvKernel = (typeof CONV_KERNELS)[number];

export interface ConvResult {
  kernel: ConvKernel | "all three";
  timing: Timing;
}

/** Times each kernel, then the three in a row (a training step's share of this layer), on `threads` threads. */
export function benchEngineConv(opts: EngineOptions, threads: number): Promise<ConvResult[]> {
  const { N, H, W, Cin, Cout, k } = CONV_SHAPE;
  const { timing } = opts;
  return withBackend(opts, threads, async (be) => {
    const rng = new Xoshiro128(7);
    const make = (shape: number[]): Tensor => {
      const t = be.alloc(shape);
      be.upload(
        t,
        Float32Array.from({ length: t.size }, () => rng.uniform(-1, 1)),
      );
      return t;
    };
    const x = make([N, H, W, Cin]),
      w = make([k, k, Cin, Cout]),
      dy = make([N, H, W, Cout]);
    const out = be.alloc([N, H, W, Cout]),
      dx = be.alloc([N, H, W, Cin]),
      dw = be.alloc([k, k, Cin, Cout]);
    const geometry = { stride: [1, 1], pad: [1, 1] } as const;
    const run: Record<ConvKernel, () => void> = {
      conv2d: () => be.run("conv2d", { x, w, out, ...geometry }),
      conv2dBackwardInput: () => be.run("conv2dBackwardInput", { dy, w, dx, ...geometry }),
      conv2dBackwardFilter: () => be.run("conv2dBackwardFilter", { x, dy, dw, ...geometry }),
    };
    const sync = () => be.read(dw); // small; makes an asynchronous backend finish its work
    const results: ConvResult[] = [];
    for (const kernel of CONV_KERNELS) {
      results.push({
        kernel,
        timing: await timeIt(async () => {
          run[kernel]();
          await sync();
        }, timing),
      });
    }
    results.push({
      kernel: "all three",
      timing: await timeIt(async () => {
        for (const kk of CONV_KERNELS) run[kk]();
        await sync();
      }, timing),
    });
    return results;
  });
}
