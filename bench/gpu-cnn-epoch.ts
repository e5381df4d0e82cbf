import type { WebGpuBackend } from "../src/backends/webgpu/index.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { createCnnNetwork, type CnnInitialState, type CnnSpec } from "./cnn-spec.js";
import { timeEpochs, type EpochResult, type EpochRun } from "./gpu-epoch.js";

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
  run: EpochRun,
): Promise<EpochResult> {
  const net = createCnnNetwork(be, spec, init);
  const features = spec.input[0] * spec.input[1] * spec.input[2];
  const rng = new Xoshiro128(2);
  return timeEpochs(
    be,
    net,
    { x: init.x, labels: init.labels, batch: init.batch, features, lr: spec.lr },
    () => ({
      x: Float32Array.from({ length: POOL * features }, () => rng.uniform(-1, 1)),
      labels: Float32Array.from({ length: POOL }, () => Math.floor(rng.next() * spec.classes)),
    }),
    run,
  );
}
