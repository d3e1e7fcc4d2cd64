/**
 * Where a command writes its output: standard output for `-`, else a file that appears only when
 * the command succeeds (see backup/staged-file.ts: temporary name, mode, owner, symlinks,
 * interrupts).
 */
import { accessSync, closeSync, constants, createWriteStream } from "node:fs";
import { dirname } from "node:path";
import { PassThrough, type Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type Encryptor, encryptStream, encryptToFile } from "../backup/crypto/index.js";
import { ReloError } from "../backup/errors.js";
import { followLinks, stageFile, statOf } from "../backup/staged-file.js";

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
