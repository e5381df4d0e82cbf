/**
 * `eval --confusion`: each class's error and the confusion matrix of a model's predictions on
 * a labelled set (rows: the true class, columns: the predicted one).
 */

/** counts[t * classes + p]: the examples of true class t predicted as p. */
export function confusionCounts(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): Int32Array {
  const counts = new Int32Array(classes * classes);
  for (let i = 0; i < labels.length; i++) counts[labels[i] * classes + predicted[i]]++;
  return counts;
}

/** The matrix as rows (true class) of counts (predicted class), for JSON. */
export function rowsOf(counts: Int32Array, classes: number): number[][] {
  return Array.from({ length: classes }, (_, t) => Array.from(counts.subarray(t * classes, (t + 1) * classes)));
}

/** Classes past which the matrix is left out (its lines would not fit a terminal). */
export const MATRIX_CLASSES = 20;

/** The per-class lines, then the matrix (up to MATRIX_CLASSES classes), as text. */
export function confusionText(counts: Int32Array, classes: number, names?: readonly string[]): string {
  const name = (k: number) => names?.[k] ?? String(k);
  const width = Math.max(...Array.from({ length: classes }, (_, k) => name(k).length));
  const lines = ["per class (error, examples):"];
  for (let t = 0; t < classes; t++) {
    let total = 0;
    for (let p = 0; p < classes; p++) total += counts[t * classes + p];
    const wrong = total - counts[t * classes + t];
    const rate = total ? `${((100 * wrong) / total).toFixed(2).padStart(6)}%` : "    -  ";
    lines.push(`  ${name(t).padEnd(width)}  ${rate}  ${total}`);
  }
  if (classes > MATRIX_CLASSES) {
    lines.push(
      `(the ${classes} x ${classes} confusion matrix is left out: shown for ${MATRIX_CLASSES} classes or fewer)`,
    );
    return lines.join("\n");
  }
  const cell = Math.max(
    5,
    ...Array.from(counts, (c) => String(c).length),
    ...Array.from({ length: classes }, (_, k) => name(k).length),
  );
  lines.push("confusion (rows: true class, columns: predicted):");
  lines.push(`  ${"".padEnd(width)}  ${Array.from({ length: classes }, (_, k) => name(k).padStart(cell)).join(" ")}`);
  for (let t = 0; t < classes; t++)
    lines.push(
      `  ${name(t).padEnd(width)}  ${Array.from({ length: classes }, (_, p) => String(counts[t * classes + p]).padStart(cell)).join(" ")}`,
    );
  return lines.join("\n");
}
