/**
 * The convolutions' filter gradient (float) on the wasm backend: Winograd's F(4x4, 3x3)
 * transposed (wasm/kernels/convWinograd.ts) against the direct product (im2col^T . dy, with its
 * sparse path for a ReLU's zeros), on every 3x3 layer after the first of svhn-small (its first
 * two), cifar10-small and the CIFAR-10 paper network, batch 50, x a ReLU's output (half zeros),
 * on 1 and 2 threads. Runs interleaved (Winograd, direct, Winograd, ...), the best of each
 * kept: the machines are shared. Usage (after `npm run build`):
 *
 *   node dist/bench/conv-filter.js [runs] [threads, e.g. 1,2] [networks, e.g. small,paper]
 *
 * Prints per layer: ms and GFLOP/s-equivalent (2 N Ho Wo Cin Cout 9 / time) of each, and the
 * speed-up. Used to set the sizes from which the wasm backend takes Winograd
 * (src/backends/wasm/kernels/conv2dBackwardFilter.ts).
 */
import { filterGradientPaths } from "../src/backends/wasm/kernels/conv2dBackwardFilter.js";
import { forEachConvLayer, layerLabel, timePair } from "./conv-layers.js";

await forEachConvLayer(12, ({ be, rng, make, N, runs }, layer) => {
  const { H, Cin, Cout } = layer;
  const x = make([N, H, H, Cin], () => Math.max(0, rng.uniform(-1, 1)));
  const dy = make([N, H, H, Cout], () => rng.uniform(-1, 1));
  const dw = be.alloc([3, 3, Cin, Cout]);
  const call = (winograd: boolean) => {
    filterGradientPaths.winograd = winograd;
    be.run("conv2dBackwardFilter", { x, dy, dw, stride: [1, 1], pad: [1, 1] });
  };
  const flops = 2 * N * H * H * Cin * Cout * 9;
  console.log(timePair(runs, call, [true, false], ["winograd", "direct"], layerLabel(layer), flops));
  filterGradientPaths.winograd = true;
  for (const t of [x, dy, dw]) be.dispose(t);
});
