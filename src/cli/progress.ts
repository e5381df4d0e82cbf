import cliProgress from "cli-progress";
import type { EpochRecord, TrainCallbacks } from "../train/trainer.js";

const pct = (x: number) => (Number.isNaN(x) ? "  n/a " : `${(100 * x).toFixed(2).padStart(5)}%`);

/** One summary line per epoch. */
export function formatEpoch(r: EpochRecord, epochs: number): string {
  return [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    `loss ${r.train_loss.toFixed(4)}`,
    `train ${pct(r.train_error)}`,
    `val ${pct(r.val_error)}`,
    `test@best ${pct(r.test_error)} (epoch ${r.best_epoch})`,
    `lr ${r.lr.toExponential(2)}`,
    `${r.seconds.toFixed(1)}s`,
    `${Math.round(r.examples_per_second)} ex/s`,
  ].join("  ");
}

/**
 * Progress within each epoch (a bar with examples/s and ETA on a terminal; nothing per batch
 * when stderr is not a terminal) and the epoch summary line on stdout.
 */
export function progressCallbacks(
  epochs: number,
  print: (line: string) => void = console.log,
): TrainCallbacks & { stop(): void } {
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    {
      format: "epoch {epoch} [{bar}] {value}/{total} batches | {rate} ex/s | ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  return {
    onEpochStart(epoch, batches) {
      if (!tty) return;
      bar.start(batches, 0, { epoch: `${epoch}/${epochs}`, rate: "-" });
      active = true;
    },
    onBatch(batch, _batches, rate) {
      if (active) bar.update(batch, { rate: Math.round(rate) });
    },
    onEpochEnd(record) {
      if (active) bar.stop();
      active = false;
      print(formatEpoch(record, epochs));
    },
    stop() {
      if (active) bar.stop();
      active = false;
    },
  };
}
