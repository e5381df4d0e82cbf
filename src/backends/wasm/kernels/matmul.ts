import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { MIN_MATMUL_MACS, partsFor, splitRange } from "../split.js";

/**
 * out = op(a) . op(b) (+ out): wasm/kernels/matmul.ts. The output is shared in chunks taken
 * from the work counter (matmulChunks); when the chunks are column blocks that each span all
 * rows, op(a) is first packed once into shared scratch by a PACK_A phase split over the threads.
 */
export const matmul: KernelImpl<WasmBackend, "matmul"> = (be, { a, b, out, transA, transB, accumulate }) => {
  const [M, N] = out.shape;
  const K = transA ? a.shape[0] : a.shape[1];
  const narrow = K < 32 || (N < 32 && !transA);
  const parts = partsFor(M * N * K, narrow ? MIN_NARROW_MATMUL_MACS : MIN_MATMUL_MACS, be.threads);
  const [rowChunk, colChunk] = matmulChunks(M, N, K, parts, transA && 2 * M >= N);
  const common = [
    be.ptr(a),
    be.ptr(b),
    be.ptr(out),
    M,
    N,
    K,
    transA ? 1 : 0,
    transB ? 1 : 0,
    accumulate ? 1 : 0,
    rowChunk,
    colChunk,
    be.workCounter,
  ] as const;
  let packedA = 0;
  if (sharesPackedA(M, N, K, rowChunk, colChunk)) {
    packedA = be.sharedScratch(4 * roundUp(M, 4) * K);
    be.dispatch("matmul", [...common, packedA, MATMUL_PACK_A], splitRange(M, parts, 4), 0);
  }
  be.dispatch(
    "matmul",
    [...common, packedA, MATMUL_PRODUCT],
    Array.from({ length: parts }, (): [number, number] => [0, 0]),
    be.matmulScratchBytes,
  );
};

/**
 * The same for a product with a narrow side (K < 32, or N < 32 without transA: the 10-unit
 * classifier's x.Wb and dy.Wb^T): a share does few multiply-adds per byte of a and out, and
 * reading what the other core just wrote cost more than the second thread saved (in the
 * 2-thread MLP step, 0.27 -> 0.19 ms and 0.24 -> 0.18 ms on one thread).
 */
const MIN_NARROW_MATMUL_MACS = 1 << 22;
const MIN_CHUNK_MACS = 1 << 18;
/** Phases of wasm/kernels/matmul.ts. */
const MATMUL_PRODUCT = 0,
  MATMUL_PACK_A = 1;
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
