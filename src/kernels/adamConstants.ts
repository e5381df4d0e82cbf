/**
 * The constants of one Adam step (src/optim/adam.ts; paper 2.4), shared by every backend so that
 * all of them compute the same float32 update.
 */
const f = Math.fround;

/** Adam's float32 constants, as every backend passes them to its kernel. */
export interface AdamConstants {
  b1: number;
  oneMinusB1: number;
  b2: number;
  oneMinusB2: number;
  eps: number;
  step: number;
  clip: number;
}

/** The constants of step t: step = lrScale lr sqrt(1 - b2^t) / (1 - b1^t) in float64, each then rounded to float32. */
export function adamConstants(
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  t: number,
  lrScale: number,
  clip: number,
): AdamConstants {
  const a = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  return {
    b1: f(beta1),
    oneMinusB1: f(1 - beta1),
    b2: f(beta2),
    oneMinusB2: f(1 - beta2),
    eps: f(eps),
    step: f(lrScale * a),
    clip: f(clip),
  };
}
