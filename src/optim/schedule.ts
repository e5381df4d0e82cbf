/**
 * Exponential learning-rate decay per epoch (authors' code):
 *   LR_decay = (lrEnd / lrStart)^(1 / epochs);  lr(epoch) = lrStart * LR_decay^epoch  (epoch from 0)
 * so the last epoch runs at lrStart * LR_decay^(epochs-1) and lrEnd would be reached after it.
 */
export function exponentialLr(lrStart: number, lrEnd: number, epochs: number, epoch: number): number {
  const decay = (lrEnd / lrStart) ** (1 / epochs);
  return lrStart * decay ** epoch;
}

/**
 * Cosine annealing per epoch (Loshchilov & Hutter 2017, without restarts):
 *   lr(epoch) = lrEnd + (lrStart - lrEnd) (1 + cos(pi epoch / epochs)) / 2   (epoch from 0)
 * from lrStart at the first epoch towards lrEnd, reached after the last.
 */
export function cosineLr(lrStart: number, lrEnd: number, epochs: number, epoch: number): number {
  return lrEnd + ((lrStart - lrEnd) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
}

/** The learning rate of `epoch` (from 0) under a named schedule. */
export function scheduledLr(
  schedule: "exponential" | "cosine",
  lrStart: number,
  lrEnd: number,
  epochs: number,
  epoch: number,
): number {
  return schedule === "cosine" ? cosineLr(lrStart, lrEnd, epochs, epoch) : exponentialLr(lrStart, lrEnd, epochs, epoch);
}
