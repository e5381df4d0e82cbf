/**
 * The convolutions' products by binary filters on the wasm backend: conv2d and
 * conv2dBackwardInput with filters of +-H (the lookup tables, additions only:
 * wasm/kernels/convLut.ts) against the same call with float filters (the float product), on
 * every 3x3 layer of the CIFAR-10 paper network and of cifar10-small (and the first two of
 * svhn-small, the narrowest: 16 filters) at batch 50, on 1 and 2
 * threads, Winograd's product (bench/conv-winograd.ts) switched off. Runs interleaved (binary,
 * float, binary, ...), the best of each kept: the machines are shared. Usage (after `npm run build`):
 *
 *   node dist/bench/conv-lut.js [runs] [threads, e.g. 1,2] [networks, e.g. small,paper]
 *
 * Prints per layer and kernel: ms and GFLOP/s-equivalent (2 N Ho Wo Cin Cout 9 / time) of each,
 * and the speed-up of the tables. Used to set the sizes from which the wasm backend takes them
 * (src/backends/wasm/kernels/conv.ts).
 */
import type { Tensor } from "../src/core/tensor.js";
import { convProductPaths } from "../src/backends/wasm/kernels/convWinogradProduct.js";
import { forEachConvLayer, layerLabel, timePair } from "./conv-layers.js";

convProductPaths.winograd = false;

await forEachConvLayer(11, ({ be, rng, make, N, runs }, layer) => {
  const { H, Cin, Cout } = layer;
  const x = make([N, H, H, Cin], () => rng.uniform(-1, 1));
  const dy = make([N, H, H, Cout], () => rng.uniform(-1, 1));
  const wBinary = make([3, 3, Cin, Cout], () => (rng.next() < 0.5 ? -0.04 : 0.04));
  const wFloat = make([3, 3, Cin, Cout], () => rng.uniform(-0.04, 0.04));
  const out = be.alloc([N, H, H, Cout]),
    dx = be.alloc([N, H, H, Cin]);
  const geometry = { stride: [1, 1], pad: [1, 1] } as const;
  const flops = 2 * N * H * H * Cin * Cout * 9;
  const calls = {
    conv2d: (w: Tensor) => be.run("conv2d", { x, w, out, ...geometry }),
    conv2dBackwardInput: (w: Tensor) => be.run("conv2dBackwardInput", { dy, w, dx, ...geometry }),
  };
  for (const [name, call] of Object.entries(calls)) {
    console.log(
      timePair(runs, call, [wBinary, wFloat], ["tables", "float"], `${layerLabel(layer)} ${name.padEnd(19)}`, flops),
    );
  }
  for (const t of [x, dy, wBinary, wFloat, out, dx]) be.dispose(t);
});
