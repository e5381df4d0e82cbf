import type * as TF from "@tensorflow/tfjs";
import { adamStepSize } from "../spec.js";

/** One weight layer of a tfjs peer: W (binarized in the forward pass) and its batch norm. */
export interface TfjsLayerParams {
  w: TF.Variable;
  gamma: TF.Variable;
  beta: TF.Variable;
  runningMean: TF.Variable;
  runningVar: TF.Variable;
  /** Glorot learning-rate scale of W (BinaryConnect's Adam, paper section 2.5 / the authors' code). */
  lrScale: number;
}

export interface TfjsHyperparams {
  lr: number;
  beta1: number;
  beta2: number;
  adamEps: number;
  H: number;
  bnMomentum: number;
}

/**
 * The loss of one forward pass. It pushes, per batch norm in layer order, the batch mean and
 * variance (tf.keep'd) to `stats` and the number of values per channel to `counts`.
 */
export type TfjsLossFn = (stats: TF.Tensor[], counts: number[]) => TF.Scalar;

/**
 * The training step shared by the tfjs peers: gradients of `lossFn`, then Adam written out in
 * Lasagne's form (step size a_t = lr sqrt(1 - beta2^t) / (1 - beta1^t); W's step times its
 * Glorot scale, then W clipped to [-H, H]), then the batch norms' running averages (unbiased
 * variance n / (n - 1)). Returns the loss.
 */
export function tfjsTrainStep(
  tf: typeof TF,
  layers: TfjsLayerParams[],
  hp: TfjsHyperparams,
  lossFn: TfjsLossFn,
): () => Promise<number> {
  const trainable = layers.flatMap((L) => [L.w, L.gamma, L.beta]);
  const lrScale = new Map<TF.Variable, number>(layers.map((L) => [L.w, L.lrScale]));
  const adam = new Map(
    trainable.map((p) => [p.name, { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false) }]),
  );
  const { beta1, beta2, adamEps, H, bnMomentum } = hp;
  let t = 0;
  return async () => {
    t++;
    const stats: TF.Tensor[] = [],
      counts: number[] = [];
    const { value, grads } = tf.variableGrads(() => lossFn(stats, counts), trainable);
    const a = adamStepSize(hp, t);
    tf.tidy(() => {
      for (const p of trainable) {
        const g = grads[p.name],
          s = adam.get(p.name)!;
        s.m.assign(tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1)));
        s.v.assign(tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const scale = lrScale.get(p);
        const next = tf.sub(p, tf.div(tf.mul(s.m, a * (scale ?? 1)), tf.add(tf.sqrt(s.v), adamEps)));
        p.assign(scale !== undefined ? tf.clipByValue(next, -H, H) : next);
      }
      layers.forEach((L, i) => {
        const [mean, variance] = [stats[2 * i], stats[2 * i + 1]];
        const unbiased = tf.mul(variance, counts[i] / (counts[i] - 1));
        L.runningMean.assign(tf.add(L.runningMean, tf.mul(tf.sub(mean, L.runningMean), bnMomentum)));
        L.runningVar.assign(tf.add(L.runningVar, tf.mul(tf.sub(unbiased, L.runningVar), bnMomentum)));
      });
    });
    tf.dispose(grads);
    tf.dispose(stats);
    const loss = (await value.data())[0];
    value.dispose();
    return loss;
  };
}
