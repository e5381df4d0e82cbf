/** biasAdd (contract: out[m,n] = x[m,n] + bias[n]), rows [r0, r1) of x: [M,N]. Exact. `out` may be `x`. */
export function biasAdd(x: usize, bias: usize, out: usize, N: i32, r0: i32, r1: i32): void {
  const rowBytes = <usize>N << 2;
  for (let m = r0; m < r1; m++) {
    const xr = x + <usize>m * rowBytes, yr = out + <usize>m * rowBytes;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const p = <usize>n << 2;
      v128.store(yr + p, f32x4.add(v128.load(xr + p), v128.load(bias + p)));
    }
    for (; n < N; n++) {
      const p = <usize>n << 2;
      store<f32>(yr + p, load<f32>(xr + p) + load<f32>(bias + p));
    }
  }
}
