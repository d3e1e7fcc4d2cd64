/**
 * Where a command writes its output: standard output for `-`, else a file that appears only when
 * the command succeeds. A regular file is written under a temporary name next to it and renamed
 * into place at the end, so a failed export never leaves a truncated file behind (or destroys
 * the previous one). Other paths (a FIFO, /dev/stdout) are written directly.
 */
import { createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
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
}

export function openDestination(path: string): Destination {
  if (path === "-") return stdoutDestination();
  const kind = fileKind(path);
  if (kind === "directory") throw new ReloError(`${path} is a directory`);
  const target = kind === "other" ? path : join(dirname(path), `.${basename(path)}.relo-${process.pid}.tmp`);
  const stream = createWriteStream(target);
  let failure: Error | null = null;
  stream.on("error", (err) => {
    failure = err;
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
      if (failure) throw new ReloError(`cannot write ${path}: ${(failure as Error).message}`);
      if (target !== path) renameSync(target, path);
    },
    async abort() {
      await close();
      if (target !== path) rmSync(target, { force: true });
    },
  };
}

function fileKind(path: string): "missing" | "file" | "directory" | "other" {
  try {
    const st = statSync(path);
    if (st.isFile()) return "file";
    return st.isDirectory() ? "directory" : "other";
  } catch {
    return "missing";
  }
}

function stdoutDestination(): Destination {
  return {
    stream: process.stdout,
    async commit() {
      if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once("drain", r));
    },
    async abort() {},
  };
}

/**
 * Output that goes through a pipe into the encryption, which writes Sentry's tarball (atomically
 * for a file, to standard output for `-`). A failed encryption (a KMS key that cannot be read)
 * breaks the pipe, which stops whatever is writing into it.
 */
export function encryptedDestination(dest: string, encryptor: Encryptor): Destination {
  const pipe = new PassThrough();
  const done =
    dest === "-"
      ? encryptStream(pipe, encryptor, process.stdout, { end: false })
      : encryptToFile(pipe, encryptor, dest);
  done.catch((err) => pipe.destroy(err));
  return {
    stream: pipe,
    async commit() {
      pipe.end();
      await done;
    },
    async abort() {
      pipe.destroy();
      await done.catch(() => {});
    },
  };
}
