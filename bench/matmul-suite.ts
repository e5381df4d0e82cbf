import { MATMUL_FLOPS, MATMUL_FORMS, benchEngineMatmul, benchTfjsMatmul, type MatmulResult } from "./matmul.js";
import type { BenchOptions } from "./options.js";
import { figure, type Row } from "./report.js";
import { PeerUnavailable } from "./runner.js";
import { describeError, threadsLabel, type Log, type SuiteOutput } from "./suite.js";

/** The WebAssembly SIMD128 mul+add ceiling per core of docs/RESULTS.md's Xeon (dev-2c-xeon), GFLOP/s (for the notes). */
export const DOC_WASM_SIMD_GFLOPS_PER_CORE = 35.8;
/** The targets: GFLOP/s on one thread, and the speed-up of two threads over one. */
export const MATMUL_GOAL_1T = 25;
export const MATMUL_GOAL_2T_SPEEDUP = 1.8;

const gflops = (seconds: number) => MATMUL_FLOPS / seconds / 1e9;

/**
 * The matrix product at 200x1024x1024 in its three forms: our engine at each thread count
 * (one thread against the 25 GFLOP/s goal, more threads against one thread; every figure
 * against the ceiling, `ceilingPerCore` x threads) and, when tfjs is selected, tfjs-wasm's
 * matMul as the peer of the one-thread figure.
 */
export async function runMatmulSuite(opts: BenchOptions, ceilingPerCore: number, log: Log): Promise<SuiteOutput> {
  const rows: Row[] = [];
  const problems: string[] = [];
  let tfjs: MatmulResult[] | null = null;
  let tfjsMissing: string | null = null;
  if (opts.only.includes("tfjs")) {
    log("matmul: tfjs-wasm matMul");
    try {
      tfjs = await benchTfjsMatmul(opts.timing);
    } catch (e) {
      if (e instanceof PeerUnavailable) tfjsMissing = e.note;
      else problems.push(`matmul tfjs-wasm: ${describeError(e)}`);
    }
  }
  const engine = new Map<number, MatmulResult[]>();
  for (const n of opts.threads) {
    log(`matmul: ${opts.backend} ${threadsLabel(n)}`);
    try {
      engine.set(n, await benchEngineMatmul(opts, n));
    } catch (e) {
      problems.push(`matmul ${opts.backend} ${threadsLabel(n)}: ${describeError(e)}`);
    }
  }

  const goals = opts.backend === "wasm";
  MATMUL_FORMS.forEach(({ form }, f) => {
    const oneThread = engine.get(1)?.[f];
    for (const [n, results] of engine) {
      const { timing } = results[f];
      const value = gflops(timing.median);
      const extra: Partial<Row> = { ceiling: ceilingPerCore * n };
      if (n === 1) {
        if (tfjs)
          Object.assign(extra, {
            peer: "tfjs-wasm matMul",
            peerValue: gflops(tfjs[f].timing.median),
            ratio: value / gflops(tfjs[f].timing.median),
          });
        if (goals) Object.assign(extra, { goal: `>= ${MATMUL_GOAL_1T}`, goalMet: value >= MATMUL_GOAL_1T });
      } else if (oneThread) {
        const base = gflops(oneThread.timing.median);
        Object.assign(extra, { peer: `${opts.backend} 1 thread`, peerValue: base, ratio: value / base });
        if (goals && n === 2)
          Object.assign(extra, {
            goal: `>= ${MATMUL_GOAL_2T_SPEEDUP}x`,
            goalMet: value / base >= MATMUL_GOAL_2T_SPEEDUP,
          });
      }
      rows.push(
        figure(
          `matmul 200x1024x1024 ${form} ${opts.backend} ${threadsLabel(n)}`,
          "GFLOP/s",
          value,
          gflops(timing.min),
          extra,
        ),
      );
    }
    if (tfjs) {
      const { timing } = tfjs[f];
      rows.push(
        figure(`matmul 200x1024x1024 ${form} tfjs-wasm matMul`, "GFLOP/s", gflops(timing.median), gflops(timing.min), {
          ceiling: ceilingPerCore,
          note:
            f === 0
              ? "tfjs-wasm: XNNPACK, 1 thread in Node; A^T.B and A.B^T use its transposeA/transposeB flags"
              : undefined,
        }),
      );
    } else if (tfjsMissing && f === 0) {
      rows.push({ name: "matmul 200x1024x1024 tfjs-wasm matMul", value: null, unit: "GFLOP/s", note: tfjsMissing });
    }
  });
  return { rows, problems };
}
