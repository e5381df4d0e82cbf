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

/** How an epoch is run and timed: `examples` / batch steps, after `lossSteps` steps on the shared start. */
export interface EpochRun {
  examples: number;
  lossSteps: number;
  timing: TimingOptions;
}

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
  run: EpochRun,
): Promise<EpochResult> {
  const mlp = Network.create(be, mlpNetwork(engineConfig(spec)), 1);
  mlp.weighted.forEach((d, i) => {
    be.upload(d.W.value, init.weights[i]);
  });
  const rng = new Xoshiro128(1);
  return timeEpochs(
    be,
    mlp,
    { x: init.x, labels: init.labels, batch: spec.batch, features: spec.inputs, lr: spec.lr },
    () => ({
      x: Float32Array.from({ length: POOL * spec.inputs }, () => rng.next()),
      labels: Float32Array.from({ length: POOL }, () => Math.floor(rng.next() * spec.classes)),
    }),
    run,
  );
}

/** A batch of examples on the host: rows of `features` values, and their labels. */
export interface HostBatch {
  x: Float32Array;
  labels: Float32Array;
}

/**
 * Times training epochs of `net` (it is disposed after) as the trainer runs them: per batch,
 * upload the images and labels, Network.trainStep; the loss sum is read once, at the end of the
 * epoch; `examples` / batch steps through the examples of `pool()` (built once, cycled through).
 * First, `lossSteps` steps on the shared start's batch give losses to compare with PyTorch's.
 */
export async function timeEpochs(
  be: WebGpuBackend,
  net: Network,
  start: HostBatch & { batch: number; features: number; lr: number },
  pool: () => HostBatch,
  { examples, lossSteps, timing }: EpochRun,
): Promise<EpochResult> {
  const { batch: B, features, lr } = start;
  const x = tensorFrom(be, [B, features], start.x),
    labels = tensorFrom(be, [B], start.labels);
  const metrics = be.alloc([2]);
  try {
    const losses: number[] = [];
    for (let s = 0; s < lossSteps; s++) {
      be.run("fill", { out: metrics, value: 0 });
      net.trainStep(x, labels, lr, metrics);
      losses.push((await be.read(metrics))[0] / B);
    }
    const { x: poolX, labels: poolLabels } = pool();
    const size = poolLabels.length;
    const batches = Math.floor(examples / B);
    const epoch = async () => {
      be.run("fill", { out: metrics, value: 0 });
      for (let k = 0; k < batches; k++) {
        const lo = (k * B) % (size - B + 1);
        be.upload(x, poolX.subarray(lo * features, (lo + B) * features));
        be.upload(labels, poolLabels.subarray(lo, lo + B));
        net.trainStep(x, labels, lr, metrics);
      }
      await be.read(metrics);
    };
    return { losses, timing: await timeIt(epoch, { ...timing, minRunMs: 0 }), batches };
  } finally {
    net.dispose();
    for (const t of [x, labels, metrics]) be.dispose(t);
  }
}
