/**
 * Typed errors. Each says what was expected, what was found, and (where there is one) a hint
 * at the fix. Nothing in the library throws a bare `Error`.
 */
export class BinaryConnectError extends Error {
  /** The class's name, written out: a bundler that shortens class names leaves it as it is. */
  override name = "BinaryConnectError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
  }
}

/** A tensor or array has the wrong shape or size. */
export class ShapeError extends BinaryConnectError {
  override name = "ShapeError";
}

/** A dataset file is missing, truncated or not in the expected format. */
export class DataFormatError extends BinaryConnectError {
  override name = "DataFormatError";
}

/** An option (CLI flag or config field) is unknown or has a bad value. */
export class OptionError extends BinaryConnectError {
  override name = "OptionError";
}

/** A checkpoint or model file is corrupt, of another version, or does not match. */
export class CheckpointError extends BinaryConnectError {
  override name = "CheckpointError";
}

/** Why a model file (.bcnet) was rejected: the checks of src/format/decode.ts, in the order they run. */
export type ModelFormatProblem = "magic" | "version" | "truncated" | "checksum" | "invalid";

/**
 * A model file (.bcnet) is not one: a wrong magic, a format version this code does not read, a
 * truncated file, a checksum mismatch, or contents that contradict the layout ("invalid").
 * The only error the model loader throws (its fuzz test checks that).
 */
export class ModelFormatError extends BinaryConnectError {
  override name = "ModelFormatError";
  constructor(
    readonly problem: ModelFormatProblem,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** Training diverged: a loss or parameter became NaN or infinite. */
export class NumericalError extends BinaryConnectError {
  override name = "NumericalError";
}

/** The library was called out of order, e.g. a layer's backward before its forward. */
export class UsageError extends BinaryConnectError {
  override name = "UsageError";
}

/** A backend cannot be created or was asked for something it does not support. */
export class BackendError extends BinaryConnectError {
  override name = "BackendError";
}

/** A file could not be read or written: `code` is the system's (ENOSPC, EACCES, ...). */
export class StorageError extends BinaryConnectError {
  override name = "StorageError";
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** Another process (or another training of this one) is training in a run folder. */
export class RunInUseError extends BinaryConnectError {
  override name = "RunInUseError";
  constructor(
    readonly dir: string,
    readonly pid: number | undefined,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** A cluster scheduler's command (sbatch, squeue, ...) is missing or refused a request. */
export class SchedulerError extends BinaryConnectError {
  override name = "SchedulerError";
}

/** Throws a ShapeError unless `cond` holds. */
export function check(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new ShapeError(message());
}
