import type { Tensor } from "../core/tensor.js";

/**
 * The kernel contract: every kernel's name and its typed arguments. A backend provides a
 * complete `KernelTable` (one implementation per name), so a missing kernel fails the type
 * check. Kernels write into output tensors the caller allocated (no allocation inside a
 * kernel) and return nothing: this maps onto asynchronous backends (WebGPU) unchanged.
 *
 * Layouts are row-major. Matrices are [rows, cols]; per-channel tensors are [C] and act on
 * the last axis of an [M, C] tensor (for images stored NHWC, M = N*H*W). Images are NHWC
 * ([batch, height, width, channels]) and convolution filters [kh, kw, Cin, Cout].
 */
export interface KernelArgs {
  /**
   * out[M,N] = op(a) . op(b) (+ out when `accumulate`), op(X) = X or X^T.
   * a: [M,K] (or [K,M] when transA); b: [K,N] (or [N,K] when transB).
   */
  matmul: { a: Tensor; b: Tensor; out: Tensor; transA: boolean; transB: boolean; accumulate: boolean };

  /**
   * The product with a binary matrix (BinaryConnect's forward and input-gradient products,
   * paper sections 2.3 and 2.6: with weights in {-H, +H} the multiply-accumulates become
   * additions and subtractions):
   *   out[M,N] = a[M,K] . op(wb),  op(wb) = wb [K,N], or wb^T (wb: [N,K]) when transB,
   * where every entry of wb is +H or -H for one H > 0. Equal to matmul's result within float32
   * rounding (a backend may sum in another order: out = H * sum of +-a by lookup tables).
   */
  binaryMatmul: { a: Tensor; wb: Tensor; out: Tensor; transB: boolean };

  /** out[m,n] = x[m,n] + bias[n]. x: [M,N], bias: [N]. `out` may be `x`. */
  biasAdd: { x: Tensor; bias: Tensor; out: Tensor };

  /** out[n] = sum_m x[m,n] (the bias gradient). x: [M,N], out: [N]. */
  columnSum: { x: Tensor; out: Tensor };

  /**
   * Batch normalization, training mode, over the rows of x: [M,C].
   *   mean[c] = (1/M) sum_m x[m,c];  variance[c] = (1/M) sum_m (x[m,c] - mean[c])^2 (biased)
   *   authors:  r = 1 / (sqrt(variance) + eps)      standard: r = 1 / sqrt(variance + eps)
   *   out[m,c] = (x[m,c] - mean[c]) * r[c] * gamma[c] + beta[c]
   * Running statistics (exponential moving average with factor `momentum`):
   *   authors:  runningMean += momentum (mean - runningMean); runningScale += momentum (sqrt(variance) - runningScale)
   *   standard: runningMean likewise;  runningScale += momentum (variance * M/(M-1) - runningScale)
   * `mean` and `variance` ([C]) are saved for the backward pass.
   * With `relu`, a ReLU follows in the same pass: out[m,c] = max(that value, 0), as `relu` (NaN stays NaN).
   */
  batchNormTrain: {
    x: Tensor;
    gamma: Tensor;
    beta: Tensor;
    out: Tensor;
    mean: Tensor;
    variance: Tensor;
    runningMean: Tensor;
    runningScale: Tensor;
    variant: BatchNormVariant;
    eps: number;
    momentum: number;
    relu?: boolean;
  };

  /**
   * Batch normalization, inference mode, with the running statistics:
   *   authors:  out = (x - runningMean) * gamma / (runningScale + eps) + beta   (runningScale = std)
   *   standard: out = (x - runningMean) * gamma / sqrt(runningScale + eps) + beta (runningScale = var)
   */
  batchNormInfer: {
    x: Tensor;
    gamma: Tensor;
    beta: Tensor;
    out: Tensor;
    runningMean: Tensor;
    runningScale: Tensor;
    variant: BatchNormVariant;
    eps: number;
  };

  /**
   * Gradient of batchNormTrain. With g = dy * gamma, xhat = (x - mean) r, s = sqrt(variance):
   *   dbeta[c] = sum_m dy;  dgamma[c] = sum_m dy * xhat
   *   standard: dx = r (g - mean_m(g) - xhat * mean_m(g xhat))
   *   authors:  dx = r (g - mean_m(g)) - xhat * mean_m(g xhat) / s     (0 where s = 0)
   * With `relu` (the gradient of batchNormTrain with `relu`): dy is first taken as 0 wherever the
   * normalized value xhat * gamma + beta (batchNormTrain's out before its ReLU, recomputed from
   * x, mean, variance, gamma and `beta` by the same float32 operations) is not > 0, as
   * reluBackward does: the result equals reluBackward then batchNormBackward.
   */
  batchNormBackward: {
    x: Tensor;
    dy: Tensor;
    gamma: Tensor;
    mean: Tensor;
    variance: Tensor;
    dx: Tensor;
    dgamma: Tensor;
    dbeta: Tensor;
    variant: BatchNormVariant;
    eps: number;
    relu?: boolean;
    /** batchNormTrain's beta: needed with `relu`. */
    beta?: Tensor;
  };

  /** out = max(x, 0), NaN propagating (a diverged run stays detectable). */
  relu: { x: Tensor; out: Tensor };

  /** dx = dy where x > 0, else 0. (x is the ReLU's input.) */
  reluBackward: { x: Tensor; dy: Tensor; dx: Tensor };

  /**
   * Inverted dropout with a counter-based seeded stream (see core/rng.ts):
   *   mask[i] = (u(key, i) >= p) / (1 - p);  out = x * mask.   key = streamKey(seed, counter)
   */
  dropout: { x: Tensor; out: Tensor; mask: Tensor; p: number; key: number };

  /** out = a * b elementwise (the dropout backward: dx = dy * mask). */
  multiply: { a: Tensor; b: Tensor; out: Tensor };

  /**
   * Square hinge loss over logits y: [M,K] and integer labels (stored as floats): [M].
   *   t = 2 onehot(label) - 1;  loss = (1/(M K)) sum max(0, 1 - t y)^2
   *   grad[m,k] = -2 t max(0, 1 - t y) / (M K)            (written only when `grad` is given)
   *   metrics[0] += loss * M   (sum of per-example losses);  metrics[1] += #(argmax_k y[m,k] != label[m])
   * argmax takes the first maximum.
   */
  squareHingeLoss: { logits: Tensor; labels: Tensor; grad: Tensor | null; metrics: Tensor };

  /**
   * BinaryConnect binarization (paper section 2.3), Wb in {-H, +H}:
   *   det:   Wb = +H if W >= 0 else -H          (zero maps to +H)
   *   stoch: p = hard_sigmoid(W / H) = clip((W/H + 1)/2, 0, 1); Wb = +H if u(key, i) < p else -H
   * The gradient is straight-through: dC/dW := dC/dWb (no kernel needed).
   */
  binarize: { w: Tensor; out: Tensor; mode: "det" | "stoch"; H: number; key: number };

  /**
   * Adam (Kingma & Ba, as in Lasagne) with the BinaryConnect scale and clip (paper 2.4, authors' code):
   *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  a = lr sqrt(1 - b2^t) / (1 - b1^t)
   *   step = a m / (sqrt(v) + eps)
   *   param = param - lrScale * step;  then, when clip > 0, param = clip(param, -clip, clip)
   * t is the 1-based step count. lrScale = 1 and clip = 0 give plain Adam.
   */
  adam: {
    param: Tensor;
    grad: Tensor;
    m: Tensor;
    v: Tensor;
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    t: number;
    lrScale: number;
    clip: number;
  };

  /**
   * 2-D convolution (cross-correlation, as in every deep-learning library), NHWC images and
   * [kh, kw, Cin, Cout] filters; zero padding `pad` on each side, `stride` (both [rows, cols]):
   *   x: [N, H, W, Cin], w: [kh, kw, Cin, Cout], out: [N, Ho, Wo, Cout],
   *   Ho = floor((H + 2 pad[0] - kh) / stride[0]) + 1   (Wo likewise; see convOutputSize)
   *   out[n,i,j,co] = sum_{ki,kj,ci} x[n, i s0 - p0 + ki, j s1 - p1 + kj, ci] w[ki,kj,ci,co]
   * (terms whose input position falls in the padding are 0). As a matrix product:
   * out[N Ho Wo, Cout] = im2col(x)[N Ho Wo, kh kw Cin] . w[kh kw Cin, Cout].
   */
  conv2d: { x: Tensor; w: Tensor; out: Tensor; stride: Pair; pad: Pair };

  /**
   * Gradient of conv2d with respect to its input (shapes as conv2d: dy like out, dx like x):
   *   dx[n,r,c,ci] = sum over (ki, kj, co) with i = (r + p0 - ki) / s0 and j = (c + p1 - kj) / s1
   *                  integers inside [0, Ho) x [0, Wo) of dy[n,i,j,co] w[ki,kj,ci,co]
   * Input positions that no window covers get 0. dx = col2im(dy . w^T).
   */
  conv2dBackwardInput: { dy: Tensor; w: Tensor; dx: Tensor; stride: Pair; pad: Pair };

  /**
   * Gradient of conv2d with respect to its filters (dw like w):
   *   dw[ki,kj,ci,co] = sum_{n,i,j} x[n, i s0 - p0 + ki, j s1 - p1 + kj, ci] dy[n,i,j,co]
   * i.e. dw[kh kw Cin, Cout] = im2col(x)^T . dy[N Ho Wo, Cout].
   */
  conv2dBackwardFilter: { x: Tensor; dy: Tensor; dw: Tensor; stride: Pair; pad: Pair };

  /**
   * Max pooling over windows of `window` [rows, cols] moved by `stride`, no padding (windows
   * that would cross the border are dropped, as Lasagne's ignore_border=True):
   *   x: [N, H, W, C], out: [N, Ho, Wo, C], Ho = floor((H - window[0]) / stride[0]) + 1
   *   out[n,i,j,c] = max_{di,dj} x[n, i s0 + di, j s1 + dj, c]
   * NaN propagates: a window holding a NaN gives NaN. The value is that of the window's
   * argmax (see maxPoolBackward), so -0 and +0 are told apart as the argmax says.
   */
  maxPool: { x: Tensor; out: Tensor; window: Pair; stride: Pair };

  /**
   * Gradient of maxPool (x: its input, dy like out, dx like x):
   *   dx = 0;  for each output (n,i,j,c) in row-major order: dx[argmax] += dy[n,i,j,c]
   * argmax = the first position of the window in row-major order (di, then dj) holding the
   * maximum (ties: the first one gets the whole gradient; a NaN: the first NaN). Overlapping
   * windows (stride < window) add their gradients, in that order.
   */
  maxPoolBackward: { x: Tensor; dy: Tensor; dx: Tensor; window: Pair; stride: Pair };

  /** out = value everywhere. */
  fill: { out: Tensor; value: number };

  /** out = x (same size). */
  copy: { x: Tensor; out: Tensor };
}

export type BatchNormVariant = "authors" | "standard";

/** A [rows, cols] pair of a 2-D window: kernel size, stride or padding. */
export type Pair = readonly [number, number];

/**
 * Output size of a convolution or pooling along one axis: floor((size + 2 pad - kernel) / stride) + 1.
 * (Pooling has pad 0.) Callers check that size + 2 pad >= kernel.
 */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

export type KernelName = keyof KernelArgs;

/** Every kernel name, for tests that iterate over the contract. */
export const KERNEL_NAMES = [
  "matmul",
  "binaryMatmul",
  "biasAdd",
  "columnSum",
  "batchNormTrain",
  "batchNormInfer",
  "batchNormBackward",
  "relu",
  "reluBackward",
  "dropout",
  "multiply",
  "squareHingeLoss",
  "binarize",
  "adam",
  "fill",
  "copy",
  "conv2d",
  "conv2dBackwardInput",
  "conv2dBackwardFilter",
  "maxPool",
  "maxPoolBackward",
] as const satisfies readonly KernelName[];

// Compile-time check that KERNEL_NAMES lists every kernel.
type Missing = Exclude<KernelName, (typeof KERNEL_NAMES)[number]>;
const _allListed: Missing extends never ? true : never = true;
void _allListed;
