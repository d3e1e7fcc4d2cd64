/**
 * Export sources: a file (re-readable, so a filtered import can pre-read it) or standard input,
 * which is spooled to a temporary file when it must be read twice.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { InputError } from "./errors.js";
import type { Source } from "./import/run.js";

const CHUNK = 1 << 20;

export interface FileSource extends Source {
  /** Size in bytes, when known. */
  size: number | null;
  /** Removes any temporary file. */
  dispose(): void;
}

export function fileSource(path: string, onBytes?: (n: number) => void): FileSource {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${path} is a directory, not an export file`);
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`,
    );
  }
  return {
    size,
    open: () => counted(createReadStream(path, { highWaterMark: CHUNK }), onBytes),
    dispose() {},
  };
}

async function* counted(
  stream: AsyncIterable<Uint8Array>,
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    onBytes?.(chunk.length);
    yield chunk;
  }
}

/** Standard input; spooled to a temporary file first when `rereadable` (it cannot be read twice). */
export async function stdinSource(rereadable: boolean, onBytes?: (n: number) => void): Promise<FileSource> {
  if (!rereadable) {
    let used = false;
    return {
      size: null,
      open() {
        if (used) throw new Error("standard input can only be read once");
        used = true;
        return counted(process.stdin, onBytes);
      },
      dispose() {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "relo-stdin-"));
  const path = join(dir, "export.json");
  await pipeline(process.stdin, createWriteStream(path));
  const src = fileSource(path, onBytes);
  return { ...src, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function openSource(
  path: string,
  rereadable: boolean,
  onBytes?: (n: number) => void,
): Promise<FileSource> {
  return path === "-" ? stdinSource(rereadable, onBytes) : fileSource(path, onBytes);
}
