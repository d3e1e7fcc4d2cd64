/**
 * Parsing of the flag values Sentry's CLI accepts, with Sentry's exact rules and messages.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../backup/errors.js";

/** The help text of every command's `--db` option. */
export const DB_HELP =
  "database: a file path, sqlite:PATH or postgres://... (default $RELO_DATABASE_URL or ./relo.db)";

/** Splits on `,` without trimming (as Sentry does); an empty value means "no filter". */
export function parseCsv(value: string | undefined): Set<string> | null {
  if (value === undefined || value === "") return null;
  return new Set(value.split(","));
}

/**
 * `--filter-usernames` or `--filter-usernames-file`. The file holds names separated by commas or
 * newlines; unlike Sentry, a trailing newline does not become part of the last name.
 */
export function usernameSelection(list?: string, file?: string): Set<string> | null {
  const fromList = parseCsv(list);
  if (fromList && file) {
    throw new UsageError(
      "`--filter-usernames` and `--filter-usernames--file` are mutually exclusive options - you may use one or the other, but not both.",
    );
  }
  if (fromList) return fromList;
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --filter-usernames-file ${file}: ${(err as Error).message}`);
  }
  const names = text.split(/,|\r?\n/).filter((n) => n !== "");
  // An empty file selects nobody; treating it as "no filter" would take every user instead.
  if (names.length === 0) throw new UsageError(`--filter-usernames-file ${file} names no users`);
  return new Set(names);
}
