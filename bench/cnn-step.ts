import { createBackend, type BackendName } from "../src/backends/index.js";
import type { SimdChoice } from "../src/backends/wasm/simd.js";
import { createCnnNetwork, type CnnInitialState, type CnnSpec } from "./cnn-spec.js";
import type { StepRunner } from "./runner.js";
import { engineStepRunner } from "./engine-runner.js";

/**
 * Our engine's training step of the benchmarked CNN (bench/cnn-spec.ts): Network.trainStep on
 * `backendName` with `threads` threads from the shared start (bench/engine-runner.ts times it).
 */
export async function createCnnEngineRunner(
  spec: CnnSpec,
  init: CnnInitialState,
  backendName: BackendName,
  threads: number,
  simd: SimdChoice = "auto",
): Promise<StepRunner> {
  const backend = await createBackend(backendName, { threads, simd });
  const net = createCnnNetwork(backend, spec, init);
  const [h, w, c] = spec.input;
  return engineStepRunner(backend, backendName, threads, net, {
    features: h * w * c,
    batch: init.batch,
    x: init.x,
    labels: init.labels,
    lr: spec.lr,
  });
}
