import { tensorFrom } from "../src/backends/backend.js";
import type { WebGpuBackend } from "../src/backends/webgpu/index.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { mlpNetwork } from "../src/nn/mlp.js";
import { Network } from "../src/nn/network.js";
import { engineConfig } from "./mlp-step.js";
import type { InitialState, MlpSpec } from "./spec.js";
import { timeIt, type Timing, type TimingOptions } from "./stats.js";

/** Synthetic images of MNIST's shape (pixels in [0, 1), labels 0-9) held on the host, cycled through. */
const POOL = 10_000;

export interface EpochResult {
  /** Losses of the first steps from the shared start (compared with PyTorch's). */
  losses: number[];
  /** Seconds per epoch. */
  timing: Timing;
  batches: number;
}

/**
 * One training epoch of the MNIST MLP (bench/spec.ts) on the webgpu backend, as the trainer
 * runs it (src/train/trainer.ts): per batch, upload the images and labels, Mlp.trainStep
 * (binarize, forward, loss, backward, Adam); the loss sum is read once, at the end of the
 * epoch. `examples` / batch steps. First, `lossSteps` steps on the shared start give losses
 * to compare with PyTorch's.
 */
export async function timeOurEpoch(
  be: WebGpuBackend,
  spec: MlpSpec,
  init: InitialState,
  examples: number,
  lossSteps: number,
  timing: TimingOptions,
): Promise<EpochResult> {
  const mlp = Network.create(be, mlpNetwork(engineConfig(spec)), 1);
  mlp.weighted.forEach((d, i) => {
    be.upload(d.W.value, init.weights[i]);
  });
  const x = tensorFrom(be, [spec.batch, spec.inputs], init.x),
    labels = tensorFrom(be, [spec.batch], init.labels);
  const metrics = be.alloc([2]);
  try {
    const losses: number[] = [];
    for (let s = 0; s < lossSteps; s++) {
      be.run("fill", { out: metrics, value: 0 });
      mlp.trainStep(x, labels, spec.lr, metrics);
      losses.push((await be.read(metrics))[0] / spec.batch);
    }
    const rng = new Xoshiro128(1);
    const pool = Float32Array.from({ length: POOL * spec.inputs }, () => rng.next());
    const poolLabels = Float32Array.from({ length: POOL }, () => Math.floor(rng.next() * spec.classes));
    const batches = Math.floor(examples / spec.batch);
    const epoch = async () => {
      be.run("fill", { out: metrics, value: 0 });
      for (let k = 0; k < batches; k++) {
        const lo = (k * spec.batch) % (POOL - spec.batch + 1);
        be.upload(x, pool.subarray(lo * spec.inputs, (lo + spec.batch) * spec.inputs));
        be.upload(labels, poolLabels.subarray(lo, lo + spec.batch));
        mlp.trainStep(x, labels, spec.lr, metrics);
      }
      await be.read(metrics);
    };
    return { losses, timing: await timeIt(epoch, { ...timing, minRunMs: 0 }), batches };
  } finally {
    mlp.dispose();
    for (const t of [x, labels, metrics]) be.dispose(t);
  }
}
