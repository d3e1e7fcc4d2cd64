/**
 * `relo backup sanitize DEST --src SRC`: Sentry's sanitize, for sharing an export (with a
 * colleague, a support team, a bug report) without the personal data and secrets in it.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { privateTempDir } from "../backup/crypto/tempdir.js";
import { InputError } from "../backup/errors.js";
import { JsonSyntaxError } from "../backup/reader.js";
import { type SanitizeResult, sanitizeExport } from "../backup/sanitize/run.js";
import { type FileSource, fileSource } from "../backup/source.js";
import { addDecryptOptions, addEncryptOptions, encryptorFromOptions, plainInput } from "./backup-crypto.js";
import { encryptedDestination, openDestination } from "./destination.js";
import { startTicker } from "./output.js";

function parseDays(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidArgumentError("must be a whole number of days.");
  return Number(value);
}

export function sanitizeCommand() {
  const cmd = new Command("sanitize")
    .description(
      "Replace the personal data and secrets in an export with random values of the same shape, so it can be shared; the result still imports.",
    )
    .argument("<dest>", "the sanitized export to write, or - for standard output")
    .requiredOption("--src <path>", "the export to sanitize, or - for standard input")
    .option(
      "--days-offset <days>",
      "move every datetime by this many days (may be negative), besides the random jitter",
      parseDays,
      0,
    );
  addDecryptOptions(cmd);
  addEncryptOptions(cmd);
  return cmd.action(async (dest, o) => {
    const encryptor = encryptorFromOptions(o);
    // A wrong DEST fails here, before the input is decrypted or read.
    const out = encryptor ? encryptedDestination(dest, encryptor) : openDestination(dest);
    try {
      const result = await sanitizeInto(out.stream, o, !!encryptor);
      await out.commit();
      process.stderr.write(`${summary(result, dest)}\n`);
    } catch (err) {
      await out.abort();
      if (err instanceof JsonSyntaxError) throw new InputError(`Invalid JSON: ${err.message}`, err.offset);
      throw out.failure() ?? err;
    }
  });
}

/** Reads `--src` (decrypting it first if asked) and writes its sanitized entries to `stream`. */
async function sanitizeInto(
  stream: Writable,
  o: { src: string; daysOffset: number },
  compact: boolean,
): Promise<SanitizeResult> {
  const input = await plainInput(o.src, o);
  try {
    const source = await rereadable(input.path);
    let pass = 1;
    let entries = 0;
    // The first pass checks the input, the second writes.
    const stopTicker = startTicker(
      (text) => process.stderr.write(`${text}\n`),
      (secs) =>
        `Still sanitizing: ${secs.toFixed(0)} seconds elapsed, pass ${pass} of 2, ${entries} entries.`,
    );
    try {
      return await sanitizeExport(source, stream, {
        daysOffset: o.daysOffset,
        compact,
        onProgress: (p, n) => {
          pass = p;
          entries = n;
        },
      });
    } finally {
      stopTicker();
      source.dispose();
    }
  } finally {
    input.cleanup();
  }
}

/**
 * The export at `path`, readable twice: standard input is copied first to a private temporary
 * file (mode 0600 in a 0700 directory), removed afterwards and also if relo is interrupted, since
 * it holds the unsanitized data.
 */
async function rereadable(path: string): Promise<FileSource> {
  if (path !== "-") return fileSource(path);
  const dir = privateTempDir("relo-sanitize-");
  try {
    const file = join(dir.path, "export.json");
    await pipeline(process.stdin, createWriteStream(file, { mode: 0o600 }));
    return { ...fileSource(file), dispose: () => dir.remove() };
  } catch (err) {
    dir.remove();
    throw err;
  }
}

function summary(result: SanitizeResult, dest: string): string {
  const entries = [...result.written.values()].reduce((a, b) => a + b, 0);
  const where = dest === "-" ? "standard output" : dest;
  let line = `Sanitized ${entries} entries of ${result.written.size} models to ${where}.`;
  if (result.dropped.size > 0) {
    const list = [...result.dropped].map(([model, n]) => `${model} (${n})`).join(", ");
    line += ` Dropped the entries of models relo does not know: ${list}.`;
  }
  return line;
}
