import { createBackend, type BackendName } from "../src/backends/index.js";
import { parseArchitecture } from "../src/nn/architecture.js";
import { Network } from "../src/nn/network.js";
import type { CnnInitialState, CnnSpec } from "./cnn-spec.js";
import type { StepRunner } from "./runner.js";
import { engineStepRunner } from "./engine-runner.js";

/**
 * Our engine's training step of the benchmarked CNN (bench/cnn-spec.ts): Network.trainStep on
 * `backendName` with `threads` threads from the shared start (bench/engine-runner.ts times it).
 */
export async function createCnnEngineRunner(spec: CnnSpec, init: CnnInitialState, backendName: BackendName, threads: number): Promise<StepRunner> {
  const backend = await createBackend(backendName, { threads });
  const net = Network.create(backend, {
    input: [...spec.input], layers: parseArchitecture(spec.architecture), binarization: "det", H: spec.H,
    batchNorm: { variant: "standard", eps: spec.bnEps, momentum: spec.bnMomentum },
    adam: { beta1: spec.beta1, beta2: spec.beta2, eps: spec.adamEps },
  }, 1);
  net.weighted.forEach((l, i) => backend.upload(l.W.value, init.weights[i]));
  const [h, w, c] = spec.input;
  return engineStepRunner(backend, backendName, threads, net, { features: h * w * c, batch: init.batch, x: init.x, labels: init.labels, lr: spec.lr });
}
