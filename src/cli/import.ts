/**
 * `relo import users|organizations|config|global SRC`: Sentry's import verbs and flags.
 */
import { Command } from "@commander-js/extra-typings";
import { ImportingError } from "../backup/errors.js";
import { orgSlugFilter, usernameFilter } from "../backup/filters.js";
import { prettyFinding, writeFindingsFile } from "../backup/findings.js";
import type { Filter, ImportFlags } from "../backup/import/context.js";
import { importExport } from "../backup/import/run.js";
import { openSource } from "../backup/source.js";
import type { Scope } from "../models/types.js";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import { parseCsv, usernameSelection } from "./args.js";
import { addDecryptOptions, plainInput } from "./backup-crypto.js";
import { formatStats, makePrinter, startProgress } from "./output.js";

interface CommonOpts {
  db?: string;
  findingsFile?: string;
  prompt: boolean;
  silent?: boolean;
}

const INTEGRITY_HINT = [
  ">> Are you restoring from a backup of the same version of Sentry?",
  ">> Are you restoring onto a clean database?",
  ">> If so then this IntegrityError might be our fault, you can open an issue here:",
  ">> https://github.com/getsentry/sentry/issues/new/choose",
].join("\n");

const MERGE_USERS_HELP = "reuse an existing user with the same username instead of renaming the import";

const CLEAR_WARNING =
  "Proceeding with this operation will irrecoverably delete all existing low-volume data - are you sure want to continue?";

async function runImport(
  src: string,
  scope: Scope,
  opts: CommonOpts,
  flags: Partial<ImportFlags>,
  filterBy: Filter | null,
) {
  const printer = makePrinter({ silent: opts.silent, prompt: opts.prompt });
  if (scope === "Global" && !(await printer.confirm(CLEAR_WARNING))) {
    printer.echo("Import cancelled.");
    return;
  }
  let progress = startProgress(printer, "Importing", null);
  const plain = await plainInput(src, opts); // an encrypted tarball: decrypted and verified first
  const source = await openSource(plain.path, filterBy !== null, (n) => progress.bytes(n));
  progress.stop();
  progress = startProgress(
    printer,
    "Importing",
    source.size === null ? null : source.size * (filterBy ? 2 : 1),
  );
  const store = await openStore(resolveDatabaseUrl(opts.db));
  try {
    const result = await importExport(store, source, {
      scope,
      flags,
      filterBy,
      onBatch: (_model, rows) => progress.rows(rows),
    });
    progress.stop();
    if (opts.findingsFile) writeFindingsFile(opts.findingsFile, []);
    printer.echo(formatStats(result.stats));
    printer.echo(`Import ${result.importUuid} done: ${store.location}`);
  } catch (err) {
    progress.stop();
    if (err instanceof ImportingError) {
      if (opts.findingsFile) writeFindingsFile(opts.findingsFile, [err.finding]);
      process.stderr.write(`\n\n${prettyFinding(err.finding)}\n`);
      if (err.finding.kind === "IntegrityError") process.stderr.write(`${INTEGRITY_HINT}\n`);
    }
    throw err;
  } finally {
    source.dispose();
    plain.cleanup();
    await store.close();
  }
}

function common<T extends Command<any, any, any>>(cmd: T): T {
  return addDecryptOptions(cmd)
    .option(
      "--db <url>",
      "database: a file path, sqlite:PATH or postgres://... (default $RELO_DATABASE_URL or ./relo.db)",
    )
    .option("--findings-file <path>", "write [] on success, or the JSON findings on failure, to this file")
    .option("--no-prompt", "do not ask for confirmation; proceed as if answered yes")
    .option("--silent", "print nothing but errors") as T;
}

export function importCommand(): Command {
  const cmd = new Command("import").description("Import a Sentry export into this database.");

  common(
    cmd
      .command("users")
      .description("Import users only (User scope).")
      .argument("<src>", "export file, or - for standard input")
      .option("--filter-usernames <csv>", "import only these usernames (comma-separated)")
      .option("--filter-usernames-file <path>", "import only the usernames in this file")
      .option("--merge-users", MERGE_USERS_HELP),
  ).action(async (src, o) => {
    const names = usernameSelection(o.filterUsernames, o.filterUsernamesFile);
    await runImport(
      src,
      "User",
      o as CommonOpts,
      { mergeUsers: !!o.mergeUsers },
      names ? usernameFilter(names) : null,
    );
  });

  common(
    cmd
      .command("organizations")
      .description("Import organizations and their users (Organization scope).")
      .argument("<src>", "export file, or - for standard input")
      .option(
        "--filter-org-slugs <csv>",
        "import only these organizations (comma-separated slugs) and their members",
      )
      .option("--merge-users", MERGE_USERS_HELP),
  ).action(async (src, o) => {
    const slugs = parseCsv(o.filterOrgSlugs);
    await runImport(
      src,
      "Organization",
      o as CommonOpts,
      { mergeUsers: !!o.mergeUsers },
      slugs ? orgSlugFilter(slugs) : null,
    );
  });

  common(
    cmd
      .command("config")
      .description("Import instance configuration and the users it names (Config scope).")
      .argument("<src>", "export file, or - for standard input")
      .option("--merge-users", MERGE_USERS_HELP)
      .option("--overwrite-configs", "overwrite existing options, relays and roles instead of keeping them"),
  ).action(async (src, o) => {
    const flags = { mergeUsers: !!o.mergeUsers, overwriteConfigs: !!o.overwriteConfigs };
    await runImport(src, "Config", o as CommonOpts, flags, null);
  });

  common(
    cmd
      .command("global")
      .description("Restore a whole instance (Global scope). Deletes all existing data first.")
      .argument("<src>", "export file, or - for standard input"),
  ).action(async (src, o) => {
    await runImport(src, "Global", o as CommonOpts, {}, null);
  });

  return cmd;
}
