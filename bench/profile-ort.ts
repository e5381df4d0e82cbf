/**
 * Where onnxruntime-node's time goes on the inference benchmark's CNN (bench/infer-cnn.ts,
 * cifar10-small's network exported to ONNX), one thread: the session's own profiler (its
 * per-node kernel times), summed per node over the timed runs, as ms per run, with each
 * convolution's multiply-adds per second (2 Ho Wo Cin Cout kh kw per image). The peer's side
 * of `node dist/bench/infer-conv.js`. Usage (after `npm run build`):
 *
 *   node dist/bench/profile-ort.js [batch (default 50)] [runs (default 20)]
 *
 * A diagnostic: the speed figures are the benchmark's (npm run bench -- --only infer-cnn).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convLabel, convMacs, inferCnnNetwork } from "./infer-cnn.js";
import { packageVersion } from "./peers/version.js";

const batch = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 20);
const WARMUP = 5;

/** One event of the profiler's trace (Chrome trace format): a node's kernel time has cat "Node". */
interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

const ort = await import("onnxruntime-node");
const net = inferCnnNetwork();
const dir = mkdtempSync(join(tmpdir(), "bc-ort-profile-"));
const session = await ort.InferenceSession.create(net.onnx, {
  executionProviders: ["cpu"],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  enableProfiling: true,
  profileFilePrefix: join(dir, "ort"),
});
const pixels = Float32Array.from(net.pixels).subarray(0, batch * net.model.inputs);
const run = () => session.run({ pixels: new ort.Tensor("float32", pixels, [batch, net.model.inputs]) });
for (let i = 0; i < WARMUP; i++) await run();
const t0 = performance.now();
for (let i = 0; i < runs; i++) await run();
const runMs = (performance.now() - t0) / runs;
session.endProfiling();
await session.release();
const trace = readdirSync(dir).find((f) => f.endsWith(".json"));
if (!trace) throw new Error(`onnxruntime-node wrote no profile into ${dir}`);
const events = JSON.parse(readFileSync(join(dir, trace), "utf8")) as TraceEvent[];
rmSync(dir, { recursive: true });

// The profile holds the warm-up runs too: every node runs once per run.
const perNode = new Map<string, { op: string; us: number }>();
for (const e of events) {
  if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
  const name = e.name.slice(0, -"_kernel_time".length);
  const entry = perNode.get(name) ?? { op: e.args?.op_name ?? "?", us: 0 };
  entry.us += e.dur;
  perNode.set(name, entry);
}
/** A convolution layer's label and multiply-adds per image, by its index among the model's layers. */
function convLayer(i: number): { label: string; macs: number } | undefined {
  const l = net.model.layers[i];
  return l?.kind === "conv" ? { label: convLabel(l), macs: convMacs(l) } : undefined;
}
console.log(
  `onnxruntime-node ${packageVersion("onnxruntime-node")}, 1 thread, cifar10-small's CNN, batch ${batch}: ` +
    `${runMs.toFixed(3)} ms a run under the profiler (mean of ${runs}); per node, ms a run:`,
);
for (const [name, { op, us }] of [...perNode].sort((a, b) => b[1].us - a[1].us)) {
  const ms = us / (runs + WARMUP) / 1000;
  if (ms < 0.005) continue;
  const conv = op === "Conv" ? convLayer(layerIndex(name)) : undefined;
  const detail = conv ? `  ${conv.label}: ${((2 * conv.macs * batch) / ms / 1e6).toFixed(1)} GFLOP/s` : "";
  console.log(`${ms.toFixed(3).padStart(8)} ms  ${op.padEnd(14)} ${name}${detail}`);
}

/**
 * The model's layer index of a node onnxruntime fused from the exporter's (src/export/onnxGraph.ts:
 * layer i's product is z<i>, its ReLU h<i>; onnxruntime names a fused node after its last output,
 * with _nchwc for its blocked layout) - or -1 for a node of its own (a multiply it made a Conv).
 */
function layerIndex(name: string): number {
  const m = /^[hz](\d+)(_nchwc)?$/.exec(name);
  return m ? Number(m[1]) : -1;
}
