import type { Tensor } from "../../core/tensor.js";
import type { KernelTable } from "../backend.js";
import type { WasmBackend } from "./index.js";
import { adamConstants } from "../../kernels/adamConstants.js";
import { convDims, type ConvDims } from "../../kernels/convDims.js";
import { partsFor, splitRange } from "./split.js";

/**
 * The wasm backend's kernel table: for each kernel of the contract, the host side of
 * wasm/kernels/<name>.ts - it turns tensors into byte offsets, precomputes scalars the way the
 * reference does, and decides how the call is split across threads. The formulas are in the
 * contract (src/kernels/contract.ts) and on each AssemblyScript kernel.
 *
 * Split policy: matmul shares chunks of its output dynamically (see matmulChunks);
 * element-wise kernels split by ranges of elements (multiples of 16); per-channel
 * kernels (columnSum, batch-norm train/backward) by channels; row kernels (biasAdd,
 * batchNormInfer) by rows; squareHingeLoss (tiny) runs on the main thread. A call uses one
 * thread per MIN_* units of work, so small calls stay on the main thread.
 */
export const KERNELS: KernelTable<WasmBackend> = {
  matmul(be, { a, b, out, transA, transB, accumulate }) {
    const [M, N] = out.shape;
    const K = transA ? a.shape[0] : a.shape[1];
    const narrow = K < 32 || (N < 32 && !transA);
    const parts = partsFor(M * N * K, narrow ? MIN_NARROW_MATMUL_MACS : MIN_MATMUL_MACS, be.threads);
    const [rowChunk, colChunk] = matmulChunks(M, N, K, parts, transA && 2 * M >= N);
    // (a, b, out, M, N, K, transA, transB, accumulate, rowChunk, colChunk, counter, packedA, phase | start, end, scratch):
    // see wasm/kernels/matmul.ts
    const common = [be.ptr(a), be.ptr(b), be.ptr(out), M, N, K, +transA, +transB, +accumulate, rowChunk, colChunk, be.workCounter];
    let packedA = 0;
    if (sharesPackedA(M, N, K, rowChunk, colChunk)) {
      packedA = be.sharedScratch(4 * roundUp(M, 4) * K);
      be.dispatch("matmul", [...common, packedA, MATMUL_PACK_A], splitRange(M, parts, 4), 0);
    }
    be.dispatch("matmul", [...common, packedA, MATMUL_PRODUCT], Array.from({ length: parts }, () => [0, 0]), be.matmulScratchBytes);
  },

  binaryMatmul(be, { a, wb, out, transB }) {
    const [M, N] = out.shape, K = a.shape[1];
    if (!usesLookupTables(K, N)) {
      KERNELS.matmul(be, { a, b: wb, out, transA: false, transB, accumulate: false });
      return;
    }
    const bits = be.sharedScratch(N * Math.ceil(K / 8));
    // (a, wb, out, M, N, K, transB, bits, counter, phase | start, end, scratch): see wasm/kernels/binaryMatmul.ts
    const common = [be.ptr(a), be.ptr(wb), be.ptr(out), M, N, K, +transB, bits, be.workCounter];
    be.dispatch("binaryMatmul", [...common, LUT_PACK], splitRange(N, partsFor(N * K, MIN_ELEMENTS, be.threads), 1), 0);
    const parts = partsFor(M * N * K, MIN_MATMUL_MACS, be.threads);
    be.dispatch("binaryMatmul", [...common, LUT_PRODUCT], Array.from({ length: parts }, () => [0, 0]), be.binaryMatmulScratchBytes(K, N));
  },

  biasAdd(be, { x, bias, out }) {
    const [M, N] = x.shape;
    // (x, bias, out, N | r0, r1)
    be.dispatch("biasAdd", [be.ptr(x), be.ptr(bias), be.ptr(out), N], split(M, M * N, 1, be));
  },

  columnSum(be, { x, out }) {
    const N = out.size, M = x.size / N;
    // (x, out, M, N | c0, c1, scratch)
    be.dispatch("columnSum", [be.ptr(x), be.ptr(out), M, N], split(N, M * N, 2, be), 8 * N);
  },

  batchNormTrain(be, args) {
    const { x, variant, eps, momentum } = args;
    const C = args.gamma.size, M = x.size / C;
    const ptrs = [x, args.gamma, args.beta, args.out, args.mean, args.variance, args.runningMean, args.runningScale].map(be.ptr);
    // (x, gamma, beta, out, mean, variance, runningMean, runningScale, M, C, authors, eps, momentum | c0, c1, scratch)
    be.dispatch("batchNormTrain", [...ptrs, M, C, +(variant === "authors"), Math.fround(eps), Math.fround(momentum)], split(C, M * C, 4, be), 12 * C);
  },

  batchNormInfer(be, args) {
    const { x, variant, eps } = args;
    const C = args.gamma.size, M = x.size / C;
    const ptrs = [x, args.gamma, args.beta, args.out, args.runningMean, args.runningScale].map(be.ptr);
    // (x, gamma, beta, out, runningMean, runningScale, C, authors, eps | r0, r1, scratch)
    be.dispatch("batchNormInfer", [...ptrs, C, +(variant === "authors"), eps], split(M, M * C, 1, be), 8 * C);
  },

  batchNormBackward(be, args) {
    const { x, variant, eps } = args;
    const C = args.gamma.size, M = x.size / C;
    const ptrs = [x, args.dy, args.gamma, args.mean, args.variance, args.dx, args.dgamma, args.dbeta].map(be.ptr);
    // (x, dy, gamma, mean, variance, dx, dgamma, dbeta, M, C, authors, eps | c0, c1, scratch)
    be.dispatch("batchNormBackward", [...ptrs, M, C, +(variant === "authors"), Math.fround(eps)], split(C, M * C, 4, be), 20 * C);
  },

  relu(be, { x, out }) {
    elementwise(be, "relu", [be.ptr(x), be.ptr(out)], x);
  },

  reluBackward(be, { x, dy, dx }) {
    elementwise(be, "reluBackward", [be.ptr(x), be.ptr(dy), be.ptr(dx)], x);
  },

  dropout(be, { x, out, mask, p, key }) {
    // u >= p <=> bits >= ceil(p 2^24) (u = bits / 2^24 exactly); keep as the reference rounds it
    const threshold = Math.ceil(p * 2 ** 24), keep = Math.fround(1 / (1 - p));
    elementwise(be, "dropout", [be.ptr(x), be.ptr(out), be.ptr(mask), threshold, keep, key >>> 0], x);
  },

  multiply(be, { a, b, out }) {
    elementwise(be, "multiply", [be.ptr(a), be.ptr(b), be.ptr(out)], a);
  },

  squareHingeLoss(be, { logits, labels, grad, metrics }) {
    const [M, K] = logits.shape;
    const g = grad ? be.ptr(grad) : 0;
    // (logits, labels, grad, hasGrad, metrics, M, K): small, main thread only
    be.dispatch("squareHingeLoss", [be.ptr(logits), be.ptr(labels), g, grad ? 1 : 0, be.ptr(metrics), M, K], [[]]);
  },

  binarize(be, { w, out, mode, H, key }) {
    elementwise(be, "binarize", [be.ptr(w), be.ptr(out), mode === "stoch" ? 1 : 0, H, key >>> 0], w);
  },

  adam(be, { param, grad, m, v, lr, beta1, beta2, eps, t, lrScale, clip }) {
    const c = adamConstants(lr, beta1, beta2, eps, t, lrScale, clip); // as the reference computes them
    const ptrs = [param, grad, m, v].map(be.ptr);
    elementwise(be, "adam", [...ptrs, c.b1, c.oneMinusB1, c.b2, c.oneMinusB2, c.eps, c.step, c.clip], param);
  },

  fill(be, { out, value }) {
    elementwise(be, "fill", [be.ptr(out), value], out);
  },

  copy(be, { x, out }) {
    elementwise(be, "copy", [be.ptr(x), be.ptr(out)], x);
  },

  conv2d(be, { x, w, out, stride, pad }) {
    const d = convDims(x, w, out, stride, pad);
    convProduct(be, "conv2d", [be.ptr(x), be.ptr(w), be.ptr(out)], d, d.N * d.Ho * d.Wo, d.Co, d.kh * d.kw * d.C);
  },

  conv2dBackwardInput(be, { dy, w, dx, stride, pad }) {
    const d = convDims(dx, w, dy, stride, pad);
    convProduct(be, "conv2dBackwardInput", [be.ptr(dy), be.ptr(w), be.ptr(dx)], d, d.N * d.H * d.W, d.C, d.kh * d.kw * d.Co);
  },

  conv2dBackwardFilter(be, { x, dy, dw, stride, pad }) {
    const d = convDims(x, dw, dy, stride, pad);
    convProduct(be, "conv2dBackwardFilter", [be.ptr(x), be.ptr(dy), be.ptr(dw)], d, d.kh * d.kw * d.C, d.Co, d.N * d.Ho * d.Wo);
  },

  maxPool(be, { x, out, window, stride }) {
    const [N, H, W, C] = x.shape, [, Ho, Wo] = out.shape;
    // (x, out, H, W, C, Ho, Wo, wh, ww, sh, sw | n0, n1): split by images
    be.dispatch("maxPool", [be.ptr(x), be.ptr(out), H, W, C, Ho, Wo, ...window, ...stride], split(N, x.size, 1, be));
  },

  maxPoolBackward(be, { x, dy, dx, window, stride }) {
    const [N, H, W, C] = x.shape, [, Ho, Wo] = dy.shape;
    // (x, dy, dx, H, W, C, Ho, Wo, wh, ww, sh, sw | n0, n1): split by images (windows never span two)
    be.dispatch("maxPoolBackward", [be.ptr(x), be.ptr(dy), be.ptr(dx), H, W, C, Ho, Wo, ...window, ...stride], split(N, x.size, 1, be));
  },
};

/**
 * A convolution kernel as the product [M, N] = (M x K) . (K x N) it computes (see
 * wasm/kernels/convGemm.ts), shared by chunks of the output as matmul:
 * (ptr0, ptr1, ptr2, N, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, ph, pw, rowChunk, colChunk, counter | scratch).
 */
function convProduct(be: WasmBackend, kernel: "conv2d" | "conv2dBackwardInput" | "conv2dBackwardFilter",
  ptrs: number[], d: ConvDims, M: number, N: number, K: number): void {
  const parts = partsFor(M * N * K, MIN_MATMUL_MACS, be.threads);
  const [rowChunk, colChunk] = matmulChunks(M, N, K, parts);
  const dims = [d.N, d.H, d.W, d.C, d.Ho, d.Wo, d.Co, d.kh, d.kw, d.sh, d.sw, d.ph, d.pw];
  be.dispatch(kernel, [...ptrs, ...dims, rowChunk, colChunk, be.workCounter], Array.from({ length: parts }, () => []), be.convScratchBytes);
}

/**
 * Work per thread below which a call does not split further. Waking a sleeping worker costs
 * ~10 us or more (workers spin 1 ms after a call, so calls in a burst cost ~1 us), so each share
 * should take several times the burst cost: 2^19 multiply-adds ~ 25 us at 40 GFLOP/s; 2^16
 * elements of an element-wise or per-channel kernel ~ 8-40 us (so batch norm's 200 x 1024, ~90
 * us on one thread, splits in two).
 */
const MIN_MATMUL_MACS = 1 << 19;
/**
 * The same for a product with a narrow side (K < 32, or N < 32 without transA: the 10-unit
 * classifier's x.Wb and dy.Wb^T): a share does few multiply-adds per byte of a and out, and
 * reading what the other core just wrote cost more than the second thread saved (in the
 * 2-thread MLP step, 0.27 -> 0.19 ms and 0.24 -> 0.18 ms on one thread).
 */
const MIN_NARROW_MATMUL_MACS = 1 << 22;
/**
 * binaryMatmul's lookup tables pay when many units share them: below these sizes (the
 * classifier layer, its input gradient) it runs as matmul. Phases of wasm/kernels/binaryMatmul.ts.
 */
const LUT_MIN_UNITS = 64;
const LUT_MIN_INPUTS = 32;
const LUT_PACK = 0, LUT_PRODUCT = 1;

/** Whether binaryMatmul with K inputs (a's columns) and N units (out's columns) runs on lookup tables (else as matmul). */
export function usesLookupTables(K: number, N: number): boolean {
  return N >= LUT_MIN_UNITS && K >= LUT_MIN_INPUTS;
}
const MIN_CHUNK_MACS = 1 << 18;
/** Phases of wasm/kernels/matmul.ts. */
const MATMUL_PRODUCT = 0, MATMUL_PACK_A = 1;
/** The largest op(a) packed once for all chunks (floats): 4 MiB, a 1024 x 1024 a. */
const MAX_SHARED_A = 1 << 20;

/**
 * Whether op(a) is packed once, shared by the chunks, instead of by each chunk: when out is cut
 * into column chunks that each span all rows (each would pack all of op(a)) and op(a) is small.
 * 200 x 1024 x 1024 on 2 threads (8 chunks), interleaved medians of 30 x 5 calls: A.B 4.45-4.49
 * -> 4.28-4.42 ms, A^T.B 4.43-4.63 -> 4.33-4.38, A.B^T 4.27-4.33 -> 4.22-4.25.
 */
export function sharesPackedA(M: number, N: number, K: number, rowChunk: number, colChunk: number): boolean {
  return colChunk < N && rowChunk >= M && M * K <= MAX_SHARED_A;
}
const MIN_ELEMENTS = 1 << 16;

/**
 * The chunk grid of a matmul on `parts` threads: up to 4 chunks per thread (so a slowed thread
 * costs at most a chunk) of at least MIN_CHUNK_MACS each, as column blocks (multiples of 8, at
 * least 32 wide: each chunk packs its own op(b) panel and repacks op(a), ~1% for the layers
 * here) or, for narrow outputs, row blocks (multiples of 4). One thread: one chunk.
 *
 * `rowsFirst` (the weight gradients x^T.dy: a transposed, the output about as tall as wide)
 * cuts rows into 2 chunks per thread instead: each chunk then repacks op(b) (contiguous rows)
 * rather than the transposed op(a) (strided). Measured on 2 threads, 200 rows of x and dy:
 * 1024 x 1024 4.38 -> 4.20 ms, 784 x 1024 3.89 -> 3.59 ms.
 */
export function matmulChunks(M: number, N: number, K: number, parts: number, rowsFirst = false): [number, number] {
  if (parts === 1) return [Math.max(M, 1), Math.max(N, 1)];
  const chunks = Math.min(4 * parts, Math.max(parts, Math.floor((M * N * K) / MIN_CHUNK_MACS)));
  if (rowsFirst) return [roundUp(Math.ceil(M / Math.min(chunks, 2 * parts)), 4), Math.max(N, 1)];
  const colChunk = roundUp(Math.ceil(N / chunks), 8);
  if (colChunk >= 32) return [Math.max(M, 1), colChunk];
  return [roundUp(Math.ceil(M / chunks), 4), Math.max(N, 1)];
}

function roundUp(n: number, q: number): number {
  return Math.max(q, Math.ceil(n / q) * q);
}

/** Ranges of [0, n) for the threads that `work` elements deserve, as [start, end] argument lists. */
function split(n: number, work: number, quantum: number, be: WasmBackend): number[][] {
  return splitRange(n, partsFor(work, MIN_ELEMENTS, be.threads), quantum);
}

/** An element-wise kernel (common arguments | start, end) over all elements of `t`. */
function elementwise(be: WasmBackend, kernel: "relu" | "reluBackward" | "dropout" | "multiply" | "binarize" | "adam" | "fill" | "copy",
  common: number[], t: Tensor): void {
  be.dispatch(kernel, common, split(t.size, t.size, 16, be));
}
