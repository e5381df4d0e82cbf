import { tensorFrom } from "../src/backends/backend.js";
import type { WebGpuBackend } from "../src/backends/webgpu/index.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { createCnnNetwork, type CnnInitialState, type CnnSpec } from "./cnn-spec.js";
import type { EpochResult } from "./gpu-epoch.js";
import { timeIt, type TimingOptions } from "./stats.js";

/** Synthetic images of CIFAR-10's shape (values in [-1, 1), labels 0-9) held on the host, cycled through. */
const POOL = 2_000;

/**
 * One training epoch of the CIFAR-10 paper network (bench/cnn-spec.ts: binary conv and dense
 * layers, max pooling, standard batch norm, batch 50) on the webgpu backend, as the trainer
 * runs it: per batch, upload the images and labels and Network.trainStep; the loss sum is read
 * once, at the end. First, `lossSteps` steps on the shared start give losses to compare.
 */
export async function timeOurCnnEpoch(
  be: WebGpuBackend,
  spec: CnnSpec,
  init: CnnInitialState,
  examples: number,
  lossSteps: number,
  timing: TimingOptions,
): Promise<EpochResult> {
  const net = createCnnNetwork(be, spec, init);
  const features = spec.input[0] * spec.input[1] * spec.input[2];
  const B = init.batch;
  const x = tensorFrom(be, [B, features], init.x),
    labels = tensorFrom(be, [B], init.labels);
  const metrics = be.alloc([2]);
  try {
    const losses: number[] = [];
    for (let s = 0; s < lossSteps; s++) {
      be.run("fill", { out: metrics, value: 0 });
      net.trainStep(x, labels, spec.lr, metrics);
      losses.push((await be.read(metrics))[0] / B);
    }
    const rng = new Xoshiro128(2);
    const pool = Float32Array.from({ length: POOL * features }, () => rng.uniform(-1, 1));
    const poolLabels = Float32Array.from({ length: POOL }, () => Math.floor(rng.next() * spec.classes));
    const batches = Math.floor(examples / B);
    const epoch = async () => {
      be.run("fill", { out: metrics, value: 0 });
      for (let k = 0; k < batches; k++) {
        const lo = (k * B) % (POOL - B + 1);
        be.upload(x, pool.subarray(lo * features, (lo + B) * features));
        be.upload(labels, poolLabels.subarray(lo, lo + B));
        net.trainStep(x, labels, spec.lr, metrics);
      }
      await be.read(metrics);
    };
    return { losses, timing: await timeIt(epoch, { ...timing, minRunMs: 0 }), batches };
  } finally {
    net.dispose();
    for (const t of [x, labels, metrics]) be.dispose(t);
  }
}
