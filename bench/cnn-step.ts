import { tensorFrom } from "../src/backends/backend.js";
import { createBackend, type BackendName } from "../src/backends/index.js";
import { parseArchitecture } from "../src/nn/architecture.js";
import { Network } from "../src/nn/network.js";
import type { CnnInitialState, CnnSpec } from "./cnn-spec.js";
import type { StepRunner } from "./runner.js";
import { threadsLabel } from "./suite.js";

/**
 * Our engine's training step of the benchmarked CNN (bench/cnn-spec.ts): Network.trainStep on
 * `backendName` with `threads` threads from the shared start; each step ends by reading the
 * metrics (so the time covers all of its work).
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
  const x = tensorFrom(backend, [init.batch, h * w * c], init.x);
  const labels = tensorFrom(backend, [init.batch], init.labels);
  const metrics = backend.alloc([2]);
  return {
    name: `${backendName} ${threadsLabel(threads)}`,
    description: `binaryconnect, ${backend.description}`,
    sharedStart: true,
    threads,
    step: async () => {
      backend.run("fill", { out: metrics, value: 0 });
      net.trainStep(x, labels, spec.lr, metrics);
      const [lossSum] = await backend.read(metrics);
      return lossSum / init.batch;
    },
    close: async () => {
      net.dispose();
      for (const t of [x, labels, metrics]) backend.dispose(t);
      await backend.close();
    },
  };
}
