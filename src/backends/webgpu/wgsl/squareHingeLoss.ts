/**
 * squareHingeLoss over logits [M, K] and labels [M] (class indices stored as floats), in one
 * workgroup of 256 invocations, each taking rows lid, lid + 256, ...:
 *   t = +1 for the label's column, -1 elsewhere;  h = max(0, 1 - t y)  (NaN stays NaN)
 *   grad = -2 t h / (M K)    (withGrad only)
 *   metrics[0] += sum h^2 / K;  metrics[1] += #rows whose first argmax is not the label
 * The sums are float32 (the reference: float64); the error count is exact.
 */
export const squareHingeLossWgsl = (withGrad: boolean): string => `
const WG = 256u;
var<workgroup> lossPart: array<f32, 256>;
var<workgroup> errorPart: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  let M = P.M;
  let K = P.K;
  let scale = -2.0 / f32(M * K);
  var loss = 0.0;
  var errors = 0u;
  for (var m = lid; m < M; m += WG) {
    let label = labels[m];
    var best = 0u;
    var bestY = logits[m * K];
    for (var k = 0u; k < K; k++) {
      let y = logits[m * K + k];
      let t = select(-1.0, 1.0, f32(k) == label);
      let d = 1.0 - t * y;
      let h = select(d, 0.0, d <= 0.0);
      loss += h * h;
      ${withGrad ? "grad[m * K + k] = scale * t * h;" : ""}
      if (y > bestY) { best = k; bestY = y; }
    }
    if (f32(best) != label) { errors += 1u; }
  }
  lossPart[lid] = loss;
  errorPart[lid] = errors;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      lossPart[lid] += lossPart[lid + s];
      errorPart[lid] += errorPart[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    metrics[0] += lossPart[0] / f32(K);
    metrics[1] += f32(errorPart[0]);
  }
}`;
