import { createBackend } from "../src/backends/index.js";
import { Model } from "../src/api/model.js";
import { mnistSplits } from "../src/api/dataNode.js";
import { mlpNetwork } from "../src/nn/mlp.js";
import { Network } from "../src/nn/network.js";
import { epochOrder, gatherBatch } from "../src/train/dataset.js";
import type { BenchOptions } from "./options.js";
import { comparison, figure, type Row } from "./report.js";
import { timeInterleaved } from "./stats.js";

/** Training images per timed repetition (one epoch of this many: 100 steps at batch 200). */
const IMAGES = 20_000;
const BATCH = 200;

/**
 * fit: the library's `Model.fit` against the engine's bare training loop (gather a shuffled
 * batch, upload, trainStep: what the CLI ran before the library existed), on the MNIST MLP
 * 784-1024-1024-1024-10 (det, batch 200), one epoch of 20,000 images without validation, at
 * each --threads, interleaved. Goal: fit within 3 % of the bare loop's examples/s.
 */
export async function runFitSuite(
  opts: BenchOptions,
  log: (m: string) => void,
): Promise<{ rows: Row[]; problems: string[] }> {
  const data = await mnistSplits({ limit: { train: IMAGES, validation: 0, test: 0 } });
  const network = mlpNetwork({
    inputs: 784,
    hidden: [1024, 1024, 1024],
    classes: 10,
    binarization: "det",
    H: 1,
    dropout: { input: 0, hidden: 0 },
    batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.15 },
  });
  const rows: Row[] = [];
  for (const threads of opts.threads) {
    log(`fit vs the bare training loop, ${threads} thread(s)`);
    const backend = await createBackend(opts.backend, { threads, simd: opts.simd });
    const bare = Network.create(backend, network, 1);
    const xs = new Float32Array(BATCH * 784),
      ys = new Float32Array(BATCH);
    const x = backend.alloc([BATCH, 784]),
      y = backend.alloc([BATCH]),
      metrics = backend.alloc([2]);
    let epoch = 0;
    const bareEpoch = async () => {
      const order = epochOrder(IMAGES, 1, epoch++);
      for (let b = 0; b < IMAGES / BATCH; b++) {
        gatherBatch(data.train, order, b * BATCH, BATCH, xs, ys);
        backend.upload(x, xs);
        backend.upload(y, ys);
        bare.trainStep(x, y, 1e-3, metrics);
      }
      await backend.read(metrics);
    };
    const model = new Model(network, { backend, seed: 1 });
    let epochs = 0;
    const fitEpoch = async () => {
      await model.fit(data.train, { epochs: ++epochs, batchSize: BATCH, lr: { start: 1e-3, end: 1e-3 } });
    };
    const [tb, tf] = await timeInterleaved([bareEpoch, fitEpoch], { ...opts.timing, minRunMs: 0 });
    const bareRate = IMAGES / tb.median,
      fitRate = IMAGES / tf.median;
    rows.push(
      figure(`bare engine loop ${threads} thread${threads > 1 ? "s" : ""}`, "examples/s", bareRate, IMAGES / tb.min),
    );
    rows.push(
      comparison(`Model.fit ${threads} thread${threads > 1 ? "s" : ""}`, "examples/s", fitRate, "bare loop", bareRate, {
        best: IMAGES / tf.min,
        goal: ">= 0.97x",
        goalMet: fitRate >= 0.97 * bareRate,
        note: `one epoch of ${IMAGES} MNIST images, batch ${BATCH}, no validation`,
      }),
    );
    for (const t of [x, y, metrics]) backend.dispose(t);
    bare.dispose();
    await model.dispose();
    await backend.close();
  }
  return { rows, problems: [] };
}
