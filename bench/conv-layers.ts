/**
 * The driver of the per-layer convolution benches (conv-lut.ts, conv-filter.ts): their command
 * line `[runs] [threads, e.g. 1,2] [networks, e.g. small,paper]`, a wasm backend per thread
 * count, the layers of CONV_BENCH_LAYERS at batch 50, and two variants of a call timed
 * interleaved (a, b, a, ...: the machines are shared), the best of each kept.
 */
import { WasmBackend } from "../src/backends/wasm/index.js";
import { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { CONV_BENCH_LAYERS } from "./cnn-spec.js";

/** What a layer's visit gets: the backend, a seeded generator, a tensor maker, the batch. */
export interface LayerContext {
  be: WasmBackend;
  rng: Xoshiro128;
  make(shape: number[], value: () => number): Tensor;
  N: number;
  runs: number;
}

/** A 3x3, pad 1 layer: its network, side (H = W), input and output channels. */
export interface ConvLayer {
  net: string;
  H: number;
  Cin: number;
  Cout: number;
}

/** Runs `visit` on every selected layer for every thread count of the command line. */
export async function forEachConvLayer(seed: number, visit: (c: LayerContext, l: ConvLayer) => void): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const threadCounts = (process.argv[3] ?? "1,2").split(",").map(Number);
  /** Only the layers of these networks (svhn-small, small, paper), default all. */
  const networks = process.argv[4]?.split(",");
  const N = 50;
  for (const threads of threadCounts) {
    const be = await WasmBackend.create({ threads });
    console.log(`${be.description}, batch ${N}, best of ${runs} (ms, GFLOP/s-equivalent):`);
    const rng = new Xoshiro128(seed);
    const make = (shape: number[], value: () => number): Tensor => {
      const t = be.alloc(shape);
      be.upload(t, Float32Array.from({ length: t.size }, value));
      return t;
    };
    for (const [net, H, Cin, Cout] of CONV_BENCH_LAYERS.filter(([n]) => !networks || networks.includes(n))) {
      visit({ be, rng, make, N, runs }, { net, H, Cin, Cout });
    }
    await be.close();
  }
}

/**
 * The best ms of `call(a)` and of `call(b)`, timed interleaved `runs` times after one warm-up
 * each, and the line that reports them: `label`, then each variant's name, ms and GFLOP/s-equivalent
 * of `flops`, then time(b) / time(a).
 */
export function timePair<V>(
  runs: number,
  call: (v: V) => void,
  [a, b]: [V, V],
  [nameA, nameB]: [string, string],
  label: string,
  flops: number,
): string {
  const best = [Infinity, Infinity];
  call(a);
  call(b);
  for (let r = 0; r < runs; r++) {
    [a, b].forEach((v, i) => {
      const t0 = performance.now();
      call(v);
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  }
  const g = (ms: number) => (flops / ms / 1e6).toFixed(1).padStart(6);
  return `${label} ${nameA} ${best[0].toFixed(2).padStart(7)} ms ${g(best[0])}  ${nameB} ${best[1].toFixed(2).padStart(7)} ms ${g(best[1])}  ${(best[1] / best[0]).toFixed(2)}x`;
}

/** A layer's label: network, size, channels. */
export function layerLabel({ net, H, Cin, Cout }: ConvLayer): string {
  return `${net.padEnd(10)} ${String(H).padStart(2)}x${H} ${String(Cin).padStart(3)}->${String(Cout).padEnd(3)}`;
}
