import { tensorFrom, type Backend } from "../src/backends/backend.js";
import type { BackendName } from "../src/backends/index.js";
import type { Sequential } from "../src/nn/sequential.js";
import type { StepRunner } from "./runner.js";
import { threadsLabel } from "./suite.js";

/** What a benchmarked step of our engine trains on: the shared start's batch. */
export interface EngineBatch {
  features: number;
  batch: number;
  x: Float32Array;
  labels: Float32Array;
  lr: number;
}

/**
 * Our engine's training step as a StepRunner: `model.trainStep` (binarize, forward, square
 * hinge loss, backward with straight-through gradients, Adam with the Glorot scale and clip) on
 * one batch. Each step ends by reading the metrics, so an asynchronous (GPU) backend is timed to
 * the end of its work. The runner owns `backend` and `model` and closes them.
 */
export function engineStepRunner(
  backend: Backend,
  backendName: BackendName,
  threads: number,
  model: Sequential,
  data: EngineBatch,
): StepRunner {
  const x = tensorFrom(backend, [data.batch, data.features], data.x);
  const labels = tensorFrom(backend, [data.batch], data.labels);
  const metrics = backend.alloc([2]);
  return {
    name: `${backendName} ${threadsLabel(threads)}`,
    description: `binaryconnect, ${backend.description}`,
    sharedStart: true,
    threads,
    step: async () => {
      backend.run("fill", { out: metrics, value: 0 });
      model.trainStep(x, labels, data.lr, metrics);
      const [lossSum] = await backend.read(metrics);
      return lossSum / data.batch;
    },
    close: async () => {
      model.dispose();
      for (const t of [x, labels, metrics]) backend.dispose(t);
      await backend.close();
    },
  };
}
