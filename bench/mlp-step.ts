import type { Backend } from "../src/backends/backend.js";
import { createBackend, type BackendName } from "../src/backends/index.js";
import type { SimdChoice } from "../src/backends/wasm/simd.js";
import { mlpNetwork, type MlpConfig } from "../src/nn/mlp.js";
import { Network } from "../src/nn/network.js";
import type { StepRunner } from "./runner.js";
import { engineStepRunner } from "./engine-runner.js";
import type { InitialState, MlpSpec } from "./spec.js";

/**
 * The benchmarked network (bench/spec.ts) as our engine's configuration, with the weights'
 * binarization and the batch norm's variant; no dropout.
 */
export function mlpConfig(
  spec: MlpSpec,
  binarization: MlpConfig["binarization"],
  variant: MlpConfig["batchNorm"]["variant"],
): MlpConfig {
  return {
    inputs: spec.inputs,
    hidden: [...spec.hidden],
    classes: spec.classes,
    binarization,
    H: spec.H,
    dropout: { input: 0, hidden: 0 },
    batchNorm: { variant, eps: spec.bnEps, momentum: spec.bnMomentum },
  };
}

/** Our engine's configuration of the benchmarked network (bench/spec.ts). */
export function engineConfig(spec: MlpSpec): MlpConfig {
  return {
    ...mlpConfig(spec, "det", "standard"),
    adam: { beta1: spec.beta1, beta2: spec.beta2, eps: spec.adamEps },
  };
}

/**
 * Our engine's training step of the benchmarked MLP (bench/spec.ts) on `backendName` with
 * `threads` threads, from the shared start (bench/engine-runner.ts times it).
 */
export async function createEngineRunner(
  spec: MlpSpec,
  init: InitialState,
  backendName: BackendName,
  threads: number,
  simd: SimdChoice = "auto",
): Promise<StepRunner> {
  return engineRunnerOn(await createBackend(backendName, { threads, simd }), backendName, threads, spec, init);
}

/** As createEngineRunner on a backend the caller made (bench/profile-step.ts times its kernels); the runner owns it. */
export function engineRunnerOn(
  backend: Backend,
  backendName: BackendName,
  threads: number,
  spec: MlpSpec,
  init: InitialState,
): StepRunner {
  const mlp = Network.create(backend, mlpNetwork(engineConfig(spec)), 1);
  mlp.weighted.forEach((d, i) => {
    backend.upload(d.W.value, init.weights[i]);
  });
  return engineStepRunner(backend, backendName, threads, mlp, {
    features: spec.inputs,
    batch: spec.batch,
    x: init.x,
    labels: init.labels,
    lr: spec.lr,
  });
}
