/**
 * The mapping file (`--mapping-file`): one JSON line per imported row, saying which pk it had in
 * the export and which it has here, so operators can rewrite references after a move. Users,
 * organizations and project keys also carry their old and new username, slug and DSN public key,
 * the values people and SDK configurations refer to them by.
 *
 * Lines go to a temporary file next to the target, which only takes the target's name once the
 * import committed (or the dry run finished): a failed import leaves no mapping behind.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { ImportKind } from "../../models/types.js";
import { UsageError } from "../errors.js";

/** The identifier each model is known by besides its pk: export field → mapping key suffix. */
export const MAPPED_IDENTIFIERS: Readonly<Record<string, string>> = {
  "sentry.user": "username",
  "sentry.organization": "slug",
  "sentry.projectkey": "public_key",
};

export interface MappingLine {
  model: string;
  old_pk: number;
  new_pk: number;
  kind: ImportKind;
  [identifier: string]: string | number | null;
}

/** A mapping line; `identifier` gives the old and new value of the model's identifier, if any. */
export function mappingLine(
  model: string,
  oldPk: number,
  newPk: number,
  kind: ImportKind,
  identifier?: { old: string | null; new: string | null },
): MappingLine {
  const line: MappingLine = { model, old_pk: oldPk, new_pk: newPk, kind };
  const name = MAPPED_IDENTIFIERS[model];
  if (name && identifier) {
    line[`old_${name}`] = identifier.old;
    line[`new_${name}`] = identifier.new;
  }
  return line;
}

const FLUSH_BYTES = 1 << 20;

export class MappingFile {
  private readonly partial: string;
  private fd: number | null;
  private buffer: string[] = [];
  private bytes = 0;
  lines = 0;

  /** Opens the temporary file at once, so an unwritable path fails before the import starts. */
  constructor(readonly path: string) {
    this.partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    try {
      this.fd = openSync(this.partial, "w");
    } catch (err) {
      throw new UsageError(`cannot write --mapping-file ${path}: ${(err as Error).message}`);
    }
  }

  add(line: MappingLine): void {
    const text = JSON.stringify(line);
    this.buffer.push(text);
    this.bytes += text.length;
    this.lines++;
    if (this.bytes >= FLUSH_BYTES) this.flush();
  }

  /** Gives the file its final name. */
  commit(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.partial, this.path);
  }

  /** Removes the temporary file (the import did not happen); a no-op after `commit`. */
  discard(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.partial, { force: true });
  }

  private flush(): void {
    if (this.buffer.length === 0 || this.fd === null) return;
    writeSync(this.fd, `${this.buffer.join("\n")}\n`);
    this.buffer = [];
    this.bytes = 0;
  }
}
