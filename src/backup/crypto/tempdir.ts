/**
 * Private temporary directories for decrypted plaintext and staged ciphertext.
 *
 * A directory is created mode 0700 and removed by `remove()`. Until then it is also removed if the
 * process exits or is stopped by SIGINT, SIGTERM or SIGHUP, so an interrupted import does not
 * leave a decrypted export behind. The signal handlers exist only while a directory does, and
 * re-raise the signal after cleaning up so the exit status is the usual one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const live = new Set<string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  unhook();
  process.kill(process.pid, signal);
}

function hook(): void {
  process.on("exit", removeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  process.off("exit", removeAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export interface TempDir {
  readonly path: string;
  /** Removes the directory and everything in it; safe to call more than once. */
  remove(): void;
}

export function privateTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  if (live.size === 0) hook();
  live.add(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      if (live.delete(path) && live.size === 0) unhook();
    },
  };
}
