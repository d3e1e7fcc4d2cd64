/**
 * `relo import users|organizations|config|global SRC`: Sentry's import verbs and flags.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { ImportingError, ReloError, UsageError } from "../backup/errors.js";
import { orgSlugFilter, usernameFilter } from "../backup/filters.js";
import { prettyFinding, writeFindingsFile } from "../backup/findings.js";
import type { Filter, ImportFlags } from "../backup/import/context.js";
import { MappingFile } from "../backup/import/mapping.js";
import { ImportReport } from "../backup/import/report.js";
import { importExport } from "../backup/import/run.js";
import { VerificationError } from "../backup/import/verify.js";
import { openSource } from "../backup/source.js";
import type { Scope } from "../models/types.js";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import { DB_HELP, parseCsv, usernameSelection } from "./args.js";
import { addDecryptOptions, plainInput } from "./backup-crypto.js";
import { checkWritable } from "./destination.js";
import { formatProblem, formatReport, makePrinter, type Printer } from "./output.js";
import { PROGRESS_MODES, type ProgressMode, startProgress } from "./progress.js";

interface CommonOpts {
  db?: string;
  findingsFile?: string;
  prompt: boolean;
  silent?: boolean;
  dryRun?: boolean;
  reportFile?: string;
  mappingFile?: string;
  progress: ProgressMode;
}

/** A dry run found problems: a real import would fail. */
class DryRunFailed extends ReloError {
  override name = "DryRunFailed";
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
  // Checked first: found unwritable after the commit, they would fail an import that succeeded.
  if (opts.findingsFile) checkWritable(opts.findingsFile, "--findings-file");
  if (opts.reportFile) checkWritable(opts.reportFile, "--report-file");
  if (opts.mappingFile) checkWritable(opts.mappingFile, "--mapping-file");
  // A dry run deletes nothing, so there is nothing to confirm.
  if (scope === "Global" && !opts.dryRun && !(await printer.confirm(CLEAR_WARNING))) {
    printer.echo("Import cancelled.");
    return;
  }
  const progress = startProgress(printer, opts.progress, filterBy !== null);
  const plain = await plainInput(src, opts); // an encrypted tarball: decrypted and verified first
  const source = await openSource(plain.path, filterBy !== null, (n) => progress.bytes(n));
  progress.setBytesTotal(source.size === null ? null : source.size * (filterBy ? 2 : 1));
  const store = await openStore(resolveDatabaseUrl(opts.db));
  let report: ImportReport | null = null;
  try {
    report = new ImportReport({ mapping: opts.mappingFile ? new MappingFile(opts.mappingFile) : null });
    await importExport(store, source, {
      scope,
      flags,
      filterBy,
      dryRun: opts.dryRun,
      report,
      onBatch: (model, rows) => progress.rows(model, rows),
      onTotals: (perModel) => progress.totals(perModel),
    });
    progress.stop();
    await finish(report, opts, printer, store.location);
  } catch (err) {
    progress.stop();
    if (report && !(err instanceof DryRunFailed)) await finishFailed(report, err, opts, printer);
    if (!(err instanceof VerificationError)) throw err;
    // Committed, but the recount disagrees: loud, and exit status 2 (main reads exitCode).
    process.stderr.write(`relo: error: verification failed: ${err.message}\n`);
    process.exitCode = 2;
  } finally {
    report?.dispose();
    source.dispose();
    plain.cleanup();
    await store.close();
  }
}

/** After an import or dry run that ran to its end: the report, the files, the verdict. */
async function finish(report: ImportReport, opts: CommonOpts, printer: Printer, location: string) {
  printer.echo(formatReport(report));
  if (opts.reportFile) await report.writeJson(opts.reportFile);
  if (report.dryRun) {
    if (opts.findingsFile) await report.writeFindings(opts.findingsFile);
    if (report.problems.size > 0) {
      const n = report.problems.size;
      throw new DryRunFailed(
        `dry run found ${n} problem${n === 1 ? "" : "s"}: a real import would fail (${formatProblem(report.problems.first[0])})`,
      );
    }
    printer.echo(
      `Dry run ${report.importUuid}: a real import would succeed. Nothing was changed: ${location}`,
    );
    return;
  }
  if (opts.findingsFile) writeFindingsFile(opts.findingsFile, []);
  printer.echo(`Import ${report.importUuid} done: ${location}`);
}

/** After a failed import: what it did before the failure (rolled back), the findings, the hints. */
async function finishFailed(report: ImportReport, err: unknown, opts: CommonOpts, printer: Printer) {
  if (err instanceof UsageError) return;
  printer.echo(formatReport(report));
  if (opts.reportFile) await report.writeJson(opts.reportFile);
  // The import was committed; only the recount disagrees, which is not a finding.
  if (err instanceof VerificationError && opts.findingsFile) writeFindingsFile(opts.findingsFile, []);
  if (err instanceof ImportingError) {
    if (opts.findingsFile) writeFindingsFile(opts.findingsFile, [err.finding]);
    process.stderr.write(`\n\n${prettyFinding(err.finding)}\n`);
    if (err.finding.kind === "IntegrityError") process.stderr.write(`${INTEGRITY_HINT}\n`);
  }
}

function common<T extends Command<any, any, any>>(cmd: T): T {
  return addDecryptOptions(cmd)
    .option("--db <url>", DB_HELP)
    .option("--findings-file <path>", "write [] on success, or the JSON findings on failure, to this file")
    .option("--no-prompt", "do not ask for confirmation; proceed as if answered yes")
    .option("--silent", "print nothing but errors")
    .option(
      "--dry-run",
      "run the whole import, report every problem and collision, then roll back (exit 0 if a real import would succeed)",
    )
    .option("--report-file <path>", "write the per-model report (and every problem and collision) as JSON")
    .option("--mapping-file <path>", "write a JSON line per imported row: model, old and new pk, kind")
    .addOption(
      new Option("--progress <mode>", "progress on stderr: a bar or periodic line (auto), JSON lines, none")
        .choices(PROGRESS_MODES)
        .default("auto" as ProgressMode),
    ) as T;
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
