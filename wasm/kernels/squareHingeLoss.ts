/**
 * squareHingeLoss (contract) over logits y: [M,K] and labels: [M] (integers stored as floats):
 *   t = 2 onehot(label) - 1;  loss = (1/(M K)) sum max(0, 1 - t y)^2
 *   grad[m,k] = -2 t max(0, 1 - t y) / (M K)          (written only when hasGrad)
 *   metrics[0] += loss M;  metrics[1] += #(argmax_k y[m,k] != label[m])   (first maximum)
 * Scalar float64, in the reference's order (the output is tiny: M x classes). Single-threaded.
 */
export function squareHingeLoss(logits: usize, labels: usize, grad: usize, hasGrad: bool, metrics: usize, M: i32, K: i32): void {
  const scale = <f64>M * <f64>K;
  let loss: f64 = 0;
  let errors: i32 = 0;
  for (let m = 0; m < M; m++) {
    const row = logits + ((<usize>m * <usize>K) << 2);
    const label = <f64>load<f32>(labels + (<usize>m << 2));
    let best = 0;
    for (let k = 0; k < K; k++) {
      const y = <f64>load<f32>(row + (<usize>k << 2));
      const t: f64 = <f64>k == label ? 1 : -1;
      const h = Math.max(0, 1 - t * y);
      loss += h * h;
      if (hasGrad) store<f32>(grad + ((<usize>m * <usize>K + <usize>k) << 2), <f32>((-2 * t * h) / scale));
      if (y > <f64>load<f32>(row + (<usize>best << 2))) best = k;
    }
    if (<f64>best != label) errors++;
  }
  store<f32>(metrics, <f32>(<f64>load<f32>(metrics) + loss / <f64>K));
  store<f32>(metrics + 4, <f32>(<f64>load<f32>(metrics + 4) + <f64>errors));
}
