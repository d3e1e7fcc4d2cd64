/**
 * A file written under a temporary name beside its target and renamed into place only when the
 * work succeeds, so a failure never leaves a truncated file or destroys the previous one.
 * Overwriting keeps what the user set up: a symlink is followed and its target replaced (the link
 * stays), and the new file gets the old one's mode and owner, since exports hold password hashes
 * and tokens. The temporary file is created at once, so a wrong path fails before any work, and it
 * is removed if relo is interrupted (SIGINT, SIGTERM, SIGHUP), as it holds partial data. A FIFO or
 * device (`/dev/stdout`) is written directly.
 */
import {
  chmodSync,
  chownSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ReloError } from "./errors.js";

/** A file being written under a temporary name beside its target. */
export interface StagedFile {
  /** What to write: the temporary file, or the target itself for a FIFO or device. */
  path: string;
  /** The temporary file, already open (null for a FIFO or device: opening one may block). */
  fd: number | null;
  /** Puts the temporary file in place of the target, with the target's mode and owner. */
  commit(): void;
  /** Removes the temporary file. */
  discard(): void;
}

export function stageFile(dest: string): StagedFile {
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
export function statOf(path: string, name: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw new ReloError(`cannot write ${name}: ${reason(err as NodeJS.ErrnoException, dirname(path))}`);
  }
}

/** The file a chain of symlinks ends at, which may not exist yet (a dangling link). */
export function followLinks(path: string): string {
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
