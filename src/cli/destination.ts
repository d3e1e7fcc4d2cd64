/**
 * Where a command writes its output: standard output for `-`, else a file that appears only when
 * the command succeeds. A regular file is written under a temporary name next to it and renamed
 * into place at the end, so a failed export never leaves a truncated file behind (or destroys
 * the previous one). Other paths (a FIFO, /dev/stdout) are written directly.
 *
 * Overwriting keeps what the user set up: a symlink is followed and its target replaced (the link
 * stays), and the new file gets the old one's mode and owner, since an export holds password
 * hashes and tokens. The temporary file is created at once, so a wrong path fails before any work,
 * and it is removed if relo is interrupted (SIGINT, SIGTERM, SIGHUP), as it holds partial data.
 */
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  createWriteStream,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PassThrough, type Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type Encryptor, encryptStream, encryptToFile } from "../backup/crypto/index.js";
import { ReloError } from "../backup/errors.js";

export interface Destination {
  stream: Writable;
  /** Flushes and puts the output in place. */
  commit(): Promise<void>;
  /** Discards what was written (a no-op for standard output). */
  abort(): Promise<void>;
  /** Why the output could not be written, as a one-line error (null if nothing failed). */
  failure(): ReloError | null;
}

export function openDestination(path: string): Destination {
  if (path === "-") return stdoutDestination();
  const file = stageFile(path);
  const stream = createWriteStream(file.path, file.fd === null ? {} : { fd: file.fd });
  let failure: ReloError | null = null;
  stream.on("error", (err) => {
    failure = new ReloError(`cannot write ${path}: ${err.message}`);
  });
  const close = async () => {
    if (!stream.closed) {
      stream.end();
      await finished(stream).catch(() => {});
    }
  };
  return {
    stream,
    async commit() {
      await close();
      if (failure) throw failure;
      file.commit();
    },
    async abort() {
      await close();
      file.discard();
    },
    failure: () => failure,
  };
}

function stdoutDestination(): Destination {
  return {
    stream: process.stdout,
    async commit() {
      if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once("drain", r));
    },
    async abort() {},
    failure: () => null,
  };
}

/**
 * Output that goes through a pipe into the encryption, which writes Sentry's tarball (atomically
 * for a file, to standard output for `-`). A failed encryption (a KMS key that cannot be read)
 * breaks the pipe, which stops whatever is writing into it.
 */
export function encryptedDestination(dest: string, encryptor: Encryptor): Destination {
  const pipe = new PassThrough();
  const file = dest === "-" ? null : stageFile(dest);
  // The encryption writes the staged file by name (it patches the tar header in place).
  if (file?.fd != null) closeSync(file.fd);
  const done = file
    ? encryptToFile(pipe, encryptor, file.path)
    : encryptStream(pipe, encryptor, process.stdout, { end: false });
  done.catch((err) => pipe.destroy(err));
  return {
    stream: pipe,
    async commit() {
      pipe.end();
      await done;
      file?.commit();
    },
    async abort() {
      pipe.destroy();
      await done.catch(() => {});
      file?.discard();
    },
    failure: () => null,
  };
}

/**
 * Fails with a one-line error unless `path` (a file relo writes after its work, such as
 * --findings-file) can be written, so a typo is reported before an export is done.
 */
export function checkWritable(path: string, what: string): void {
  const target = followLinks(path);
  const existing = statOf(target, `${what} ${path}`);
  if (existing?.isDirectory()) throw new ReloError(`${what} ${path} is a directory`);
  const dir = dirname(target);
  if (!existing) {
    const parent = statOf(dir, `${what} ${path}`);
    if (!parent) throw new ReloError(`cannot write ${what} ${path}: directory ${dir} does not exist`);
    if (!parent.isDirectory()) throw new ReloError(`cannot write ${what} ${path}: ${dir} is not a directory`);
  }
  try {
    accessSync(existing ? target : dir, constants.W_OK);
  } catch {
    throw new ReloError(`cannot write ${what} ${path}: permission denied`);
  }
}

/** A file being written under a temporary name beside its target. */
interface StagedFile {
  /** What to write: the temporary file, or the target itself for a FIFO or device. */
  path: string;
  /** The temporary file, already open (null for a FIFO or device: opening one may block). */
  fd: number | null;
  /** Puts the temporary file in place of the target, with the target's mode and owner. */
  commit(): void;
  /** Removes the temporary file. */
  discard(): void;
}

function stageFile(dest: string): StagedFile {
  const existing = statOf(dest, dest);
  if (existing?.isDirectory()) throw new ReloError(`${dest} is a directory`);
  if (existing && !existing.isFile()) return { path: dest, fd: null, commit() {}, discard() {} };
  const target = followLinks(dest);
  const temp = join(dirname(target), `.${basename(target)}.relo-${process.pid}.tmp`);
  const fd = openTemp(temp, dest, existing);
  track(temp);
  return {
    path: temp,
    fd,
    commit() {
      if (existing) copyModeAndOwner(temp, existing);
      renameSync(temp, target);
      untrack(temp);
    },
    discard() {
      removeTemp(temp);
      untrack(temp);
    },
  };
}

/** `path`'s status, following symlinks; undefined if nothing is there. */
function statOf(path: string, name: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw new ReloError(`cannot write ${name}: ${reason(err as NodeJS.ErrnoException, dirname(path))}`);
  }
}

/** The file a chain of symlinks ends at, which may not exist yet (a dangling link). */
function followLinks(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = readlinkSync(current);
    } catch {
      return current; // not a symlink, or nothing there
    }
    current = resolve(dirname(current), link);
  }
  throw new ReloError(`cannot write ${path}: too many levels of symbolic links`);
}

/** Creates the temporary file; an existing target's mode applies from the start (umask permitting). */
function openTemp(temp: string, dest: string, existing: Stats | undefined): number {
  try {
    return openSync(temp, "w", existing ? existing.mode & 0o777 : 0o666);
  } catch (err) {
    throw new ReloError(`cannot write ${dest}: ${reason(err as NodeJS.ErrnoException, dirname(temp))}`);
  }
}

function reason(err: NodeJS.ErrnoException, dir: string): string {
  if (err.code === "ENOENT") return `directory ${dir} does not exist`;
  if (err.code === "ENOTDIR") return `${dir} is not a directory`;
  if (err.code === "EACCES" || err.code === "EPERM") return `permission denied in ${dir}`;
  return err.message;
}

function copyModeAndOwner(temp: string, was: Stats): void {
  try {
    chownSync(temp, was.uid, was.gid);
  } catch {
    // Only root may give a file away; the file then belongs to whoever ran relo.
  }
  chmodSync(temp, was.mode & 0o7777);
}

/** Removes a temporary file and any the encryption staged beside it under its name. */
function removeTemp(temp: string): void {
  rmSync(temp, { force: true });
  const prefix = `.${basename(temp)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(temp));
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix)) rmSync(join(dirname(temp), name), { force: true });
}

const live = new Set<string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function removeAll(): void {
  for (const temp of live) removeTemp(temp);
  live.clear();
}

/** Cleans up, then re-raises the signal with no handler left, so relo ends with the usual status. */
function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  unhook();
  process.kill(process.pid, signal);
}

function track(temp: string): void {
  if (live.size === 0) {
    process.on("exit", removeAll);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  live.add(temp);
}

function untrack(temp: string): void {
  if (live.delete(temp) && live.size === 0) unhook();
}

function unhook(): void {
  process.off("exit", removeAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}
