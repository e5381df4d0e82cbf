import { createBackend } from "./src/backends/index.js";
import { loadMnist } from "./src/data/mnist.js";
import { mnistSplits } from "./src/data/split.js";
import { train } from "./src/train/trainer.js";
const data = mnistSplits(await loadMnist(), { limit: { train: 1500, validation: 500, test: 500 } });
const config = (seed: number) => ({
  preset: "test", dataset: "mnist", hidden: [64, 64], mode: "stoch", H: 1,
  dropout: { input: 0.2, hidden: 0.5 },
  batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.15 }, batchSize: 100, epochs: 2, lrStart: 3e-3, lrEnd: 3e-4,
  seed, testTime: { kind: "real" }, evalBatchSize: 250, meanFrom: "split",
}) as any;
for (const seed of [7, 8, 9]) {
  const out: string[] = [];
  for (const name of ["reference", "webgpu"] as const) {
    const backend = await createBackend(name);
    const r = await train({ config: config(seed), backend, data });
    out.push(`${name}: ` + r.records.map((e) => `e${e.epoch} tl ${e.train_loss.toFixed(6)} vl ${e.val_loss.toFixed(6)} ve ${e.val_error}`).join(" | "));
    r.model.dispose(); await backend.close();
  }
  console.log(`seed ${seed}\n  ${out.join("\n  ")}`);
}
