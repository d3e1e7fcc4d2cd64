/**
 * `relo export users|organizations|config|global [DEST]`: Sentry's export verbs and flags.
 */
import { existsSync } from "node:fs";
import { Command, Option } from "@commander-js/extra-typings";
import { ExportingError, UsageError } from "../backup/errors.js";
import type { ExportFilter, ExportResult } from "../backup/export/context.js";
import { exportScope } from "../backup/export/run.js";
import { prettyFinding, writeFindingsFile } from "../backup/findings.js";
import type { Scope } from "../models/types.js";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import type { Store } from "../store/types.js";
import { DB_HELP, parseCsv, usernameSelection } from "./args.js";
import { addEncryptOptions, encryptorFromOptions } from "./backup-crypto.js";
import { checkWritable, encryptedDestination, openDestination } from "./destination.js";
import { makePrinter, startTicker } from "./output.js";

interface CommonOpts {
  db?: string;
  findingsFile?: string;
  indent: number;
  prompt: boolean;
  silent?: boolean;
}

async function runExport(dest: string, scope: Scope, opts: CommonOpts, filterBy: ExportFilter | null) {
  const printer = makePrinter({ silent: opts.silent, prompt: opts.prompt });
  if (dest !== "-" && existsSync(dest) && opts.prompt && process.stdin.isTTY) {
    if (!(await printer.confirm(`${dest} exists. Overwrite it?`))) {
      printer.echo("Export cancelled.");
      return;
    }
  }
  const encryptor = encryptorFromOptions(opts as unknown as Record<string, unknown>);
  // Path mistakes fail here, before the database is opened or anything is written.
  if (opts.findingsFile) checkWritable(opts.findingsFile, "--findings-file");
  const out = encryptor ? encryptedDestination(dest, encryptor) : openDestination(dest);
  let store: Store | null = null;
  let written = 0;
  // On stderr: stdout may carry the export.
  const stopTicker = startTicker(
    (text) => printer.echo(text),
    (secs) => `Still exporting: ${secs.toFixed(2)} seconds elapsed (${written} rows written).`,
  );
  try {
    store = await openStore(resolveDatabaseUrl(opts.db));
    const result = await exportScope(store, out.stream, {
      scope,
      filterBy,
      // An encrypted export holds compact JSON (Sentry writes it with orjson), whatever --indent says.
      indent: encryptor ? null : opts.indent,
      onRows: (rows) => {
        written = rows;
      },
    });
    await out.commit();
    stopTicker();
    if (opts.findingsFile) writeFindingsFile(opts.findingsFile, []);
    printer.echo(summary(result, dest));
  } catch (err) {
    stopTicker();
    await out.abort();
    if (err instanceof ExportingError) {
      if (opts.findingsFile) writeFindingsFile(opts.findingsFile, [err.finding]);
      process.stderr.write(`\n\n${prettyFinding(err.finding)}\n`);
    }
    throw out.failure() ?? err;
  } finally {
    // An open PostgreSQL pool would keep relo running after the error.
    await store?.close();
  }
}

function summary(result: ExportResult, dest: string): string {
  const models = result.models.filter((m) => m.rows > 0).length;
  const where = dest === "-" ? "standard output" : dest;
  return `Exported ${result.rows} rows of ${models} models (${(result.bytes / 1e6).toFixed(1)} MB) to ${where}.`;
}

function parseIndent(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--indent must be a whole number >= 0, got ${value}`);
  return n;
}

const DEST_HELP = "file to write, or - for standard output";

function common<T extends Command<any, any, any>>(cmd: T): T {
  return addEncryptOptions(cmd)
    .option("--db <url>", DB_HELP)
    .option("--findings-file <path>", "write [] on success, or the JSON findings on failure, to this file")
    .addOption(new Option("--indent <n>", "spaces per indentation level").default(2).argParser(parseIndent))
    .option("--no-prompt", "overwrite DEST without asking (relo asks only on a terminal)")
    .option("--silent", "print nothing but errors") as T;
}

export function exportCommand(): Command {
  const cmd = new Command("export").description("Export this database in Sentry's backup format.");

  common(
    cmd
      .command("users")
      .description("Export users only (User scope).")
      .argument("[dest]", DEST_HELP, "-")
      .option("--filter-usernames <csv>", "export only these usernames (comma-separated)")
      .option("--filter-usernames-file <path>", "export only the usernames in this file"),
  ).action(async (dest, o) => {
    const names = usernameSelection(o.filterUsernames, o.filterUsernamesFile);
    const filter: ExportFilter | null = names
      ? { model: "sentry.user", field: "username", values: names }
      : null;
    await runExport(dest, "User", o as unknown as CommonOpts, filter);
  });

  common(
    cmd
      .command("organizations")
      .description("Export organizations and their users (Organization scope).")
      .argument("[dest]", DEST_HELP, "-")
      .option(
        "--filter-org-slugs <csv>",
        "export only these organizations (comma-separated slugs) and their members",
      ),
  ).action(async (dest, o) => {
    const slugs = parseCsv(o.filterOrgSlugs);
    const filter: ExportFilter | null = slugs
      ? { model: "sentry.organization", field: "slug", values: slugs }
      : null;
    await runExport(dest, "Organization", o as unknown as CommonOpts, filter);
  });

  const unfiltered: [string, Scope, string][] = [
    ["config", "Config", "Export instance configuration and its administrators (Config scope)."],
    ["global", "Global", "Export the whole instance (Global scope)."],
  ];
  for (const [name, scope, description] of unfiltered) {
    common(cmd.command(name).description(description).argument("[dest]", DEST_HELP, "-")).action(
      async (dest, o) => {
        await runExport(dest, scope, o as unknown as CommonOpts, null);
      },
    );
  }

  return cmd;
}
