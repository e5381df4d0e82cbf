import { tensorFrom } from "../src/backends/backend.js";
import { createBackend, type BackendName } from "../src/backends/index.js";
import { Mlp, type MlpConfig } from "../src/nn/mlp.js";
import type { StepRunner } from "./runner.js";
import { threadsLabel } from "./suite.js";
import type { InitialState, MlpSpec } from "./spec.js";

/** Our engine's configuration of the benchmarked network (bench/spec.ts). */
export function engineConfig(spec: MlpSpec): MlpConfig {
  return {
    inputs: spec.inputs,
    hidden: [...spec.hidden],
    classes: spec.classes,
    binarization: "det",
    H: spec.H,
    dropout: { input: 0, hidden: 0 },
    batchNorm: { variant: "standard", eps: spec.bnEps, momentum: spec.bnMomentum },
    adam: { beta1: spec.beta1, beta2: spec.beta2, eps: spec.adamEps },
  };
}

/**
 * Our engine's training step: Mlp.trainStep (binarize, forward, square hinge loss, backward
 * with straight-through gradients, Adam with the Glorot scale and clip) on `backendName`
 * with `threads` threads, starting from the shared weights. Each step ends by reading the
 * metrics, so an asynchronous (GPU) backend is timed to the end of its work.
 */
export async function createEngineRunner(
  spec: MlpSpec, init: InitialState, backendName: BackendName, threads: number,
): Promise<StepRunner> {
  const backend = await createBackend(backendName, { threads });
  const mlp = Mlp.create(backend, engineConfig(spec), 1);
  mlp.dense.forEach((d, i) => backend.upload(d.W.value, init.weights[i]));
  const x = tensorFrom(backend, [spec.batch, spec.inputs], init.x);
  const labels = tensorFrom(backend, [spec.batch], init.labels);
  const metrics = backend.alloc([2]);
  return {
    name: `${backendName} ${threadsLabel(threads)}`,
    description: `binaryconnect, ${backend.description}`,
    sharedStart: true,
    threads,
    step: async () => {
      backend.run("fill", { out: metrics, value: 0 });
      mlp.trainStep(x, labels, spec.lr, metrics);
      const [lossSum] = await backend.read(metrics);
      return lossSum / spec.batch;
    },
    close: async () => {
      mlp.dispose();
      for (const t of [x, labels, metrics]) backend.dispose(t);
      await backend.close();
    },
  };
}
