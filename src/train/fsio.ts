/**
 * The file operations of run folders, checkpoints and exports (Node). Every failure is a typed
 * StorageError naming the path, the cause (ENOSPC, EACCES, EROFS, ENOTDIR, EISDIR, ENOENT, ...)
 * and a hint. Files are replaced atomically (a temporary file in the same folder, fsync, rename,
 * fsync of the folder), and a temporary file of a failed write is removed.
 *
 * Tests inject faults through setFaultInjector (or, for CLI processes, the environment variable
 * BINARYCONNECT_TEST_FAULT): the injector is consulted before every operation and may throw,
 * e.g. an errno error (faultError) or a SimulatedKill, after which a test treats the process as
 * dead (every later operation throws too, so nothing is cleaned up, as after a real kill).
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { BinaryConnectError, RunInUseError, StorageError } from "../core/errors.js";

export { RunInUseError, StorageError };

/** The operations a fault injector sees. */
export type FileOp = "mkdir" | "open" | "write" | "fsync" | "rename" | "read" | "readdir" | "unlink" | "lock";

/** Consulted before every file operation of this module; throwing makes the operation fail. */
export type FaultInjector = (op: FileOp, path: string) => void;

let injector: FaultInjector | undefined;

/** Test-only: installs (or, with undefined, removes) the fault injector. */
export function setFaultInjector(f: FaultInjector | undefined): void {
  injector = f;
}

/** Test-only: what an injector throws to "kill" the process at an operation. */
export class SimulatedKill extends Error {
  constructor(
    readonly op: FileOp,
    readonly path: string,
  ) {
    super(`simulated kill at ${op} ${path}`);
    this.name = "SimulatedKill";
  }
}

/** Test-only: an error as Node's file functions throw it (code, errno, syscall, path). */
export function faultError(code: string, op: FileOp, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: injected fault, ${op} '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = op;
  e.path = path;
  return e;
}

function consult(op: FileOp, path: string): void {
  injector?.(op, path);
}

/**
 * Test-only, for CLI processes: BINARYCONNECT_TEST_FAULT="[OP[:NAME]@]N:CODE" - the Nth file
 * operation (of kind OP, on a path that contains NAME) fails with errno CODE, or with CODE KILL
 * the process is killed there (SIGKILL). E.g. "write:checkpoint.bin@2:ENOSPC", "17:KILL".
 */
const envFault = typeof process !== "undefined" ? process.env.BINARYCONNECT_TEST_FAULT : undefined;
if (envFault) {
  const m = /^(?:([a-z]+)(?::([^@]+))?@)?(\d+):([A-Z]+)$/.exec(envFault);
  if (m) {
    const [, kind, name, nth, code] = m;
    let count = 0;
    setFaultInjector((op, path) => {
      if ((kind && op !== kind) || (name && !path.includes(name))) return;
      if (++count !== Number(nth)) return;
      if (code === "KILL") process.kill(process.pid, "SIGKILL");
      throw faultError(code, op, path);
    });
  }
}

const CAUSES: Record<string, [string, string]> = {
  ENOSPC: [
    "no space left on the device",
    "free some space and run again; the file it replaces is intact (files are written to a temporary file first)",
  ],
  EDQUOT: [
    "the disk quota is exceeded",
    "free some space or raise the quota, and run again; the file it replaces is intact",
  ],
  EACCES: ["permission denied", "choose a folder you can write to, or change the permissions"],
  EPERM: ["operation not permitted", "choose a folder you can write to, or change the permissions"],
  EROFS: ["the file system is read-only", "choose a folder on a writable disk"],
  ENOTDIR: [
    "a part of the path is a file, not a folder",
    "check the path: every part before the last must be a folder",
  ],
  EISDIR: ["it is a folder, not a file", "name a file in the folder, not the folder itself"],
  ENOENT: ["no such file or folder", "check the path; a folder to write into must exist"],
  EEXIST: ["it exists and is not a folder", "choose a folder (or a new name) for it"],
  EIO: ["an input/output error (the disk or its connection failed)", "check the disk, then run again"],
  EMFILE: ["too many open files", "close other programs or raise the limit (ulimit -n)"],
  EBUSY: ["the file or device is busy", "run again when it is free"],
};

/** The typed error for a failed file operation (errors that are not the system's are returned as they are). */
export function storageError(e: unknown, action: string, path: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (e instanceof BinaryConnectError || typeof code !== "string") return e;
  const [cause, hint] = CAUSES[code] ?? [(e as Error).message, undefined];
  return new StorageError(path, code, `cannot ${action} ${path}: ${cause} (${code})`, hint);
}

function attempt<T>(action: string, path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw storageError(e, action, path);
  }
}

/** Creates `dir` and its parents where missing; a path that is a file (or a device) is an error. */
export function ensureDir(dir: string): void {
  attempt("create the folder", dir, () => {
    consult("mkdir", dir);
    mkdirSync(dir, { recursive: true });
  });
  const st = attempt("read", dir, () => statSync(dir));
  if (!st.isDirectory())
    throw new StorageError(
      dir,
      "ENOTDIR",
      `cannot use ${dir} as a folder: it is a file`,
      "choose a folder (or a new name) for it",
    );
}

/** Removes a folder if it holds nothing (best effort: a folder in use or not empty stays). */
export function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone: it stays as it is
  }
}

/** The contents of a file. */
export function readFileChecked(path: string, what = "read"): Uint8Array {
  return attempt(what, path, () => {
    consult("read", path);
    return new Uint8Array(readFileSync(path));
  });
}

/** Whether a folder exists at `path` (pathExists's rules). */
export function isFolder(path: string): boolean {
  return pathExists(path) && statSync(path).isDirectory();
}

/** Whether a file or folder exists at `path` (a path through a file is "no"; other failures are errors). */
export function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw storageError(e, "read", path);
  }
}

/** A file written to its temporary name (fsynced), not yet in place. */
export interface StagedFile {
  readonly path: string;
  readonly tmp: string;
  /** Moves it into place (atomically) and makes that durable; if that fails, the temporary file is removed unless `keep`. */
  commit(keep?: boolean): void;
  /** Removes the temporary file. */
  discard(): void;
}

/** The temporary name of `path` while this process writes it. */
export function tmpName(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Refuses to replace anything but a regular file (a folder, a device such as the null device, a pipe). */
function checkReplaceable(path: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    throw storageError(e, "write", path);
  }
  if (st.isDirectory())
    throw new StorageError(
      path,
      "EISDIR",
      `cannot write ${path}: it is a folder, not a file`,
      "name a file inside it, not the folder itself",
    );
  if (!st.isFile())
    throw new StorageError(
      path,
      "EINVAL",
      `cannot write ${path}: it is not a regular file (a device, a pipe or a socket)`,
      "name a regular file",
    );
}

/** Writes `bytes` to the temporary name of `path` and fsyncs it; commit() moves it into place. */
export function stageFile(path: string, bytes: Uint8Array): StagedFile {
  checkReplaceable(path);
  const tmp = tmpName(path);
  let fd: number | undefined;
  try {
    consult("open", tmp);
    fd = openSync(tmp, "w");
    consult("write", tmp);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    consult("fsync", tmp);
    fsyncSync(fd);
    const f = fd;
    fd = undefined;
    closeSync(f);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // the write's error is the one to report
      }
    }
    removeQuietly(tmp);
    throw storageError(e, "write", path);
  }
  return {
    path,
    tmp,
    commit(keep = false) {
      try {
        consult("rename", path);
        renameSync(tmp, path);
      } catch (e) {
        if (!keep) removeQuietly(tmp);
        throw storageError(e, "write", path);
      }
      syncFolder(dirname(path));
    },
    discard() {
      removeQuietly(tmp);
    },
  };
}

/** Writes bytes to `path` atomically: temporary file in the same folder, fsync, rename, fsync of the folder. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  stageFile(path, bytes).commit();
}

/** Makes a rename in `dir` durable where the platform can (not on Windows, where folders cannot be opened). */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    consult("fsync", dir);
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch (e) {
    if (e instanceof SimulatedKill) throw e;
    // best effort: the rename itself has happened
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes a file, ignoring every failure (cleanup after another error). */
export function removeQuietly(path: string): void {
  try {
    consult("unlink", path);
    unlinkSync(path);
  } catch (e) {
    if (e instanceof SimulatedKill) throw e;
    // nothing to do: a leftover temporary file is removed when the run folder is next opened
  }
}

/** Removes a file (a missing one is fine). */
export function removeFile(path: string): void {
  try {
    consult("unlink", path);
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw storageError(e, "remove", path);
  }
}

const TMP = /\.tmp-(\d+)$/;

/** The temporary files in `dir` left by processes that are no longer writing them (killed, or this one). */
export function staleTemporaries(dir: string): string[] {
  const names = attempt("list", dir, () => {
    consult("readdir", dir);
    return readdirSync(dir);
  });
  return names
    .filter((name) => {
      const m = TMP.exec(name);
      return m !== null && (Number(m[1]) === process.pid || !processAlive(Number(m[1])));
    })
    .map((name) => join(dir, name));
}

/** Whether a process with this id runs on this machine. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  /** The Slurm task that took it ("JOB_TASK" of a job array, else the job id), when it ran under Slurm. */
  slurmTask?: string;
}

/**
 * This process's Slurm task, if Slurm started it. Slurm runs one attempt of a task at a time:
 * a lock of the same task taken on another node was left by an earlier attempt (the node failed
 * and the task was requeued), never by a live process.
 */
function slurmTask(): string | undefined {
  const env = typeof process !== "undefined" ? process.env : {};
  if (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID) return `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`;
  return env.SLURM_JOB_ID || undefined;
}

/** The locks this process holds (a lock file with its own pid that is not here was left by a killed run). */
const held = new Set<string>();

/** A lock file older than this whose contents cannot be read was left by a process killed while creating it. */
const UNREADABLE_LOCK_STALE_MS = 10_000;

export interface Lock {
  readonly path: string;
  /** Set when a stale lock of a dead process was taken over. */
  readonly note?: string;
  release(): void;
}

/** Who holds the lock file at `path`: live (a running process, or one of this process's trainings) or stale; null when there is none. */
export function lockHolder(path: string): { info: LockInfo | null; live: boolean } | null {
  let text: string;
  let age: number;
  try {
    text = readFileSync(path, "utf8");
    age = Date.now() - statSync(path).mtimeMs;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw storageError(e, "read the lock", path);
  }
  let info: LockInfo | null = null;
  try {
    const parsed = JSON.parse(text) as Partial<LockInfo>;
    if (typeof parsed.pid === "number" && typeof parsed.host === "string")
      info = {
        pid: parsed.pid,
        host: parsed.host,
        // a lock written by hand may lack its start time: "" (the notes then leave it out)
        started: typeof parsed.started === "string" ? parsed.started : "",
        ...(typeof parsed.slurmTask === "string" ? { slurmTask: parsed.slurmTask } : {}),
      };
  } catch {
    // torn: its process was killed while creating it, or is creating it now
  }
  if (!info) return { info: null, live: age < UNREADABLE_LOCK_STALE_MS };
  if (info.host !== hostname()) return { info, live: !(info.slurmTask && info.slurmTask === slurmTask()) };
  if (info.pid === process.pid) return { info, live: held.has(resolve(path)) };
  return { info, live: processAlive(info.pid) && !startedAfter(info.pid, Date.parse(info.started)) };
}

/**
 * Whether process `pid` started after `time` (ms since the epoch), so that it cannot be the one
 * that wrote a lock at that time (its number was reused: after a reboot, or by the system since).
 * Read from Linux's /proc (the start in clock ticks of 1/100 s after boot, and the boot time);
 * false where that cannot be read (other systems) or `time` is not a time.
 */
export function startedAfter(pid: number, time: number): boolean {
  if (!Number.isFinite(time)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    const start = (boot + ticks / 100) * 1000;
    // the boot time is whole seconds: a second and a half of slack
    return Number.isFinite(start) && start > time + 1500;
  } catch {
    return false;
  }
}

/**
 * Takes the lock file `path` for a training in `dir`. It is created atomically and complete: its
 * contents (this process's id) are written to a temporary file, which is then hard-linked to
 * `path` - a link, like an O_EXCL open, fails when the lock exists (where the file system has no
 * hard links, an O_EXCL open is used). A lock of a process that no longer runs is taken over
 * (the Lock's note says so); a live one is a RunInUseError naming its process.
 */
export function acquireLock(path: string, dir: string): Lock {
  const task = slurmTask();
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    ...(task ? { slurmTask: task } : {}),
  };
  const text = new TextEncoder().encode(`${JSON.stringify(info)}\n`);
  let note: string | undefined;
  for (let tries = 0; ; tries++) {
    try {
      consult("lock", path);
      createExclusive(path, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw storageError(e, "create the lock", path);
      const holder = lockHolder(path);
      if (holder?.live || tries >= 2) throw inUse(dir, path, holder?.info ?? null);
      if (holder) {
        note = holder.info
          ? `note: ${dir} was locked by process ${holder.info.pid} on ${holder.info.host}${holder.info.started ? ` (started ${holder.info.started})` : ""}, which no longer runs; taking the run over`
          : `note: ${dir} had an unreadable lock file left by a killed process; taking the run over`;
        removeFile(path);
      }
      continue;
    }
    const key = resolve(path);
    held.add(key);
    let released = false;
    return {
      path,
      ...(note ? { note } : {}),
      release() {
        if (released) return;
        released = true;
        held.delete(key);
        removeFile(path);
      },
    };
  }
}

/** Creates `path` with `bytes` unless it exists (EEXIST), never visible incomplete. */
function createExclusive(path: string, bytes: Uint8Array): void {
  const tmp = tmpName(path);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    // no hard links here: O_EXCL (a process killed between its open and its write leaves an empty lock, taken over after a few seconds)
    const fd2 = openSync(path, "wx");
    try {
      writeSync(fd2, bytes);
      fsyncSync(fd2);
    } finally {
      closeSync(fd2);
    }
  } finally {
    removeQuietly(tmp);
  }
  syncFolder(dirname(path));
}

/** Throws the RunInUseError of `dir` when a live process holds its lock file `path`. */
export function checkNotLocked(path: string, dir: string): void {
  const holder = lockHolder(path);
  if (holder?.live) throw inUse(dir, path, holder.info);
}

function inUse(dir: string, path: string, info: LockInfo | null): RunInUseError {
  if (!info)
    return new RunInUseError(
      dir,
      undefined,
      `${dir} is in use: another process is starting a training in it (${basename(path)} is being created)`,
      "wait for it, or choose another folder",
    );
  if (info.pid === process.pid && info.host === hostname()) {
    return new RunInUseError(
      dir,
      info.pid,
      `${dir} is in use: this process is already training in it (since ${info.started})`,
      "wait for that training to finish, or choose another folder",
    );
  }
  const where = info.host === hostname() ? `process ${info.pid}` : `process ${info.pid} on ${info.host}`;
  return new RunInUseError(
    dir,
    info.pid,
    `${dir} is in use: ${where} has been training in it${info.started ? ` since ${info.started}` : ""}`,
    `wait for it to finish or stop it (kill ${info.pid}: it checkpoints and exits); if no such process runs, delete ${path}`,
  );
}
