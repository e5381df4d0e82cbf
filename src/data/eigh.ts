/**
 * Eigendecomposition of a real symmetric matrix: A = V diag(values) V^T (for ZCA whitening,
 * preprocess.ts). The classical method of EISPACK's tred2 + tql2 (Householder reduction to
 * tridiagonal form, then the implicit QL algorithm with Wilkinson shifts), as in the public
 * domain JAMA library, in float64. The eigenvector matrix is stored transposed (row j is the
 * eigenvector of values[j]) so that every inner loop runs over contiguous memory: a 3072 x 3072
 * covariance (CIFAR-10) takes a few minutes in plain JavaScript. Eigenvalues are not sorted.
 */
export interface SymmetricEigen {
  /** The eigenvalues (unsorted). */
  values: Float64Array;
  /** n x n, row-major: row j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/**
 * The eigendecomposition of the symmetric n x n matrix `a` (row-major; only its lower triangle is
 * read; not modified). `progress(done, total)` is called now and then.
 */
export function symmetricEigen(
  a: ArrayLike<number>,
  n: number,
  progress?: (done: number, total: number) => void,
): SymmetricEigen {
  // w[j*n + k] = V[k][j]: V starts as A (symmetric: the transpose of its lower triangle).
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) w[j * n + i] = w[i * n + j] = a[i * n + j];
  const d = new Float64Array(n),
    e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: w };
  const work: EigenWork = { w, d, e, n, progress };
  tridiagonalize(work);
  qlImplicit(work);
  return { values: d, vectors: w };
}

/**
 * The arrays the two stages work in: w = V^T (n x n, row-major), the diagonal d and the
 * off-diagonal e of the tridiagonal matrix; progress(done, total) is called now and then.
 */
interface EigenWork {
  w: Float64Array;
  d: Float64Array;
  e: Float64Array;
  n: number;
  progress?: (done: number, total: number) => void;
}

/** EISPACK tred2 on w = V^T: Householder reduction; d, e receive the tridiagonal matrix, w the transformations. */
function tridiagonalize({ w, d, e, n, progress }: EigenWork): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    if (progress && i % 64 === 0) progress(n - i, 3 * n);
    let scale = 0,
      h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        const row = j * n;
        f = d[j];
        w[i * n + j] = f;
        g = e[j] + w[row + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[row + k] * d[k];
          e[k] += w[row + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        const row = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) w[row + k] -= f * e[k] + g * d[k];
        d[j] = w[row + i - 1];
        w[row + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    if (progress && i % 64 === 0) progress(n + i, 3 * n);
    const next = (i + 1) * n;
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[next + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[next + k] * w[row + k];
        for (let k = 0; k <= i; k++) w[row + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** EISPACK tql2: the implicit QL algorithm on the tridiagonal (d, e), rotations applied to the rows of w. */
function qlImplicit({ w, d, e, n, progress }: EigenWork): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0,
    tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    if (progress && l % 64 === 0) progress(2 * n + l, 3 * n);
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      do {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1,
          c2 = c,
          c3 = c,
          s = 0,
          s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const lo = i * n,
            hi = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const t = w[hi + k];
            w[hi + k] = s * w[lo + k] + c * t;
            w[lo + k] = c * w[lo + k] - s * t;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
