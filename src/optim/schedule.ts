/**
 * Exponential learning-rate decay per epoch (authors' code):
 *   LR_decay = (lrEnd / lrStart)^(1 / epochs);  lr(epoch) = lrStart * LR_decay^epoch  (epoch from 0)
 * so the last epoch runs at lrStart * LR_decay^(epochs-1) and lrEnd would be reached after it.
 */
export function exponentialLr(lrStart: number, lrEnd: number, epochs: number, epoch: number): number {
  const decay = (lrEnd / lrStart) ** (1 / epochs);
  return lrStart * decay ** epoch;
}
