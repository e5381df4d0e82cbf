import type * as JAX from "@jax-js/jax";
import { PeerUnavailable, type StepRunner } from "../runner.js";
import { packageVersion } from "./version.js";
import { adamStepSize, layerShapes, wLrScale, type InitialState, type MlpSpec } from "../spec.js";

type Arr = JAX.Array;
/** Trainable parameters of one layer (no bias: batch norm follows every dense layer). */
type LayerParams = { w: Arr; gamma: Arr; beta: Arr };
type Running = { mean: Arr; variance: Arr };
type State = { params: LayerParams[]; m: LayerParams[]; v: LayerParams[]; running: Running[] };

/**
 * Peer: the benchmarked training step (bench/spec.ts) in jax-js with its WebAssembly backend,
 * the whole step (forward, grad, Adam, running statistics) in one `jit`. In Node the wasm
 * backend runs on ONE thread (no SharedArrayBuffer workers there), whatever --threads says.
 * In Node jax-js needs `init("wasm")` (a bare `init()` fails on `navigator`), and there is no
 * Adam on the registry for it, so Adam (Lasagne's form) is written inside the jitted step.
 *
 * jax-js frees arrays by reference counting: passing an array to a function consumes it, so
 * an array used twice is passed as `a.ref` the first time (see its README).
 */
export async function createJaxjsRunner(spec: MlpSpec, init: InitialState): Promise<StepRunner> {
  let jax: typeof JAX;
  try {
    jax = await import("@jax-js/jax");
    await jax.init("wasm");
    jax.defaultDevice("wasm");
  } catch (e) {
    throw new PeerUnavailable("jax-js", `cannot load @jax-js/jax: ${String(e)}`, "npm install --save-dev @jax-js/jax");
  }
  const { numpy: np, nn, lax, tree } = jax;
  const { H, bnEps, bnMomentum, beta1, beta2, adamEps } = spec;
  const M = spec.batch;
  const shapes = layerShapes(spec);
  const scales = shapes.map(([k, n]) => wLrScale(k, n));

  /** Wb = +H where W >= 0, else -H, with the straight-through gradient: W + stop_gradient(Wb - W). */
  const binarizeSte = (w: Arr): Arr => w.ref.add(lax.stopGradient(np.where(np.greaterEqual(w.ref, 0), H, -H).sub(w)));

  /** Forward pass and loss; the batch statistics are returned as auxiliary outputs. */
  const lossFn = (params: LayerParams[], x: Arr, targets: Arr): [Arr, Running[]] => {
    let h = x;
    const stats: Running[] = [];
    params.forEach((p, i) => {
      const z = np.matmul(h, binarizeSte(p.w)); // [M, n]
      const mean = np.mean(z.ref, 0);
      const variance = np.var_(z.ref, 0); // biased, as batch norm normalizes with
      stats.push({ mean: lax.stopGradient(mean.ref), variance: lax.stopGradient(variance.ref) });
      const y = z
        .sub(mean)
        .div(np.sqrt(variance.add(bnEps)))
        .mul(p.gamma)
        .add(p.beta);
      h = i < params.length - 1 ? nn.relu(y) : y;
    });
    // Square hinge: mean over batch x classes of max(0, 1 - t y)^2.
    const loss = np.mean(np.square(nn.relu(np.subtract(1, targets.mul(h)))));
    return [loss, stats];
  };

  /** Adam (Lasagne's form) on one parameter; returns [param, m, v]. `a` is consumed. */
  const adamUpdate = (p: Arr, g: Arr, m: Arr, v: Arr, a: Arr, clip: boolean): [Arr, Arr, Arr] => {
    const m2 = m.mul(beta1).add(g.ref.mul(1 - beta1));
    const v2 = v.mul(beta2).add(np.square(g).mul(1 - beta2));
    const p2 = p.sub(a.mul(m2.ref).div(np.sqrt(v2.ref).add(adamEps)));
    return [clip ? np.clip(p2, -H, H) : p2, m2, v2];
  };

  /** One training step. `a` = Adam's step size at this t (a scalar, so t does not recompile). */
  const trainStep = jax.jit((state: State, x: Arr, targets: Arr, a: Arr): [State, Arr] => {
    const [[loss, stats], grads] = jax.valueAndGrad(lossFn, { hasAux: true })(tree.ref(state.params), x, targets);
    const next: State = { params: [], m: [], v: [], running: [] };
    state.params.forEach((p, i) => {
      const [g, m, v] = [grads[i], state.m[i], state.v[i]];
      const [w, mw, vw] = adamUpdate(p.w, g.w, m.w, v.w, a.ref.mul(scales[i]), true);
      const [gamma, mg, vg] = adamUpdate(p.gamma, g.gamma, m.gamma, v.gamma, a.ref, false);
      const [beta, mb, vb] = adamUpdate(p.beta, g.beta, m.beta, v.beta, a.ref, false);
      next.params.push({ w, gamma, beta });
      next.m.push({ w: mw, gamma: mg, beta: mb });
      next.v.push({ w: vw, gamma: vg, beta: vb });
      const r = state.running[i];
      next.running.push({
        mean: r.mean.ref.add(stats[i].mean.sub(r.mean).mul(bnMomentum)),
        variance: r.variance.ref.add(
          stats[i].variance
            .mul(M / (M - 1))
            .sub(r.variance)
            .mul(bnMomentum),
        ),
      });
    });
    a.dispose();
    return [next, loss];
  });

  const zerosLike = (ps: LayerParams[]): LayerParams[] =>
    ps.map((p) => ({ w: np.zeros(p.w.shape), gamma: np.zeros(p.gamma.shape), beta: np.zeros(p.beta.shape) }));
  const params: LayerParams[] = shapes.map(([k, n], l) => ({
    w: np.array(init.weights[l]).reshape([k, n]),
    gamma: np.ones([n]),
    beta: np.zeros([n]),
  }));
  let state: State = {
    params,
    m: zerosLike(params),
    v: zerosLike(params),
    running: shapes.map(([, n]) => ({ mean: np.zeros([n]), variance: np.ones([n]) })),
  };
  const x = np.array(init.x).reshape([M, spec.inputs]);
  const targets = np.array(init.targets).reshape([M, spec.classes]);
  let t = 0;

  const step = async (): Promise<number> => {
    t++;
    const [next, loss] = trainStep(state, x.ref, targets.ref, np.array(adamStepSize(spec, t)));
    state = next;
    await jax.blockUntilReady(state);
    return (await loss.data())[0];
  };

  return {
    name: "jax-js",
    description: `@jax-js/jax ${packageVersion("@jax-js/jax")}, wasm backend, jit (1 thread in Node)`,
    sharedStart: true,
    step,
    close: async () => {
      tree.dispose(state);
      x.dispose();
      targets.dispose();
      trainStep.dispose();
    },
  };
}
