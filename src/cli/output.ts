/**
 * What the CLI tells the user, all on stderr (stdout carries data only): messages, the per-model
 * report, and errors (progress displays are in progress.ts). `--silent` turns messages off;
 * `--no-prompt` answers yes to confirmations.
 */
import confirm from "@inquirer/confirm";
import { UsageError } from "../backup/errors.js";
import type { Collision } from "../backup/import/collisions.js";
import type { ImportReport, ModelSummary, Problem } from "../backup/import/report.js";
import { DROP_LABELS } from "../backup/import/stats.js";

export interface Printer {
  echo(text: string): void;
  /** Asks a yes/no question; resolves true when the user agrees. */
  confirm(question: string): Promise<boolean>;
  readonly silent: boolean;
}

export function makePrinter(opts: { silent?: boolean; prompt?: boolean }): Printer {
  const silent = opts.silent ?? false;
  const prompt = opts.prompt ?? true;
  return {
    silent,
    echo(text) {
      if (!silent) process.stderr.write(`${text}\n`);
    },
    async confirm(question) {
      if (!prompt) return true;
      if (!process.stdin.isTTY) {
        throw new UsageError(
          `${question}\nCannot ask for confirmation without a terminal: pass --no-prompt to proceed.`,
        );
      }
      return confirm({ message: question, default: false }, { output: process.stderr });
    },
  };
}

/** How many collisions and problems the stderr report lists; the report file has them all. */
export const LIST_LIMIT = 100;

/** `ValidationError in sentry.user #3 (pk 5) at byte 120: reason`. */
export function formatProblem(p: Problem): string {
  const where = [
    p.model ? `in ${p.model}` : "",
    p.model && p.ordinal ? `#${p.ordinal}` : "",
    p.pk ? `(pk ${p.pk})` : "",
    p.offset !== null ? `at byte ${p.offset}` : "",
  ].filter(Boolean);
  return `${[p.kind, ...where].join(" ")}: ${p.reason}`;
}

function formatCollision(c: Collision): string {
  return `${c.model} #${c.ordinal} (pk ${c.old_pk}): ${c.message}`;
}

function table(header: string[], lines: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [fmt(header), ...lines.map(fmt)];
}

function list<T>(title: string, items: readonly T[], total: number, fmt: (t: T) => string): string[] {
  if (total === 0) return [];
  const more = total - items.length;
  return [
    "",
    `${title} (${total}):`,
    ...items.map((t) => `  ${fmt(t)}`),
    ...(more > 0 ? [`  ... and ${more} more (--report-file lists them all)`] : []),
  ];
}

/**
 * The report printed after an import or dry run: a per-model table, the reasons rows were
 * dropped, the collisions met, the recount, and (dry runs) each collision and problem.
 */
export function formatReport(report: ImportReport, limit = LIST_LIMIT): string {
  const models = report.modelSummaries();
  const header = ["model", "read", "inserted", "existing", "overwritten", "dropped", "collisions"];
  const collisionsOf = (m: ModelSummary) => Object.values(m.collisions).reduce((a, b) => a + b, 0);
  const rows = models.map((m) =>
    [m.model, m.read, m.inserted, m.existing, m.overwritten, m.dropped, collisionsOf(m)].map(String),
  );
  const sum = (f: (m: ModelSummary) => number) => String(models.reduce((a, m) => a + f(m), 0));
  rows.push([
    "total",
    sum((m) => m.read),
    sum((m) => m.inserted),
    sum((m) => m.existing),
    sum((m) => m.overwritten),
    sum((m) => m.dropped),
    sum(collisionsOf),
  ]);
  const out = table(header, rows);
  const drops = models.flatMap((m) =>
    m.drop_reasons.map((r) => {
      const label = DROP_LABELS[r.category];
      const detail = r.reason === label ? "" : ` (${r.reason})`;
      return `  ${m.model}: ${r.count} ${label}${detail}`;
    }),
  );
  if (drops.length) out.push("", "Dropped:", ...drops);
  const collided = models.filter((m) => collisionsOf(m) > 0);
  if (collided.length && !report.dryRun) {
    out.push(
      "",
      "Collisions:",
      ...collided.map(
        (m) =>
          `  ${m.model}: ${Object.entries(m.collisions)
            .map(([action, n]) => `${n} ${action}`)
            .join(", ")}`,
      ),
    );
  }
  if (report.dryRun) {
    out.push(
      ...list(
        "Collisions, and what the import would do",
        report.collisions.first.slice(0, limit),
        report.collisions.size,
        formatCollision,
      ),
      ...list("Problems", report.problems.first.slice(0, limit), report.problems.size, formatProblem),
    );
  }
  const v = report.verification;
  if (v) {
    const bad = v.models.filter((m) => m.found !== m.claimed);
    out.push(
      "",
      bad.length === 0
        ? `Verified: every row written is in the database (${v.models.length} models recounted).`
        : `Verification FAILED: ${bad.map((m) => `${m.model} holds ${m.found} of ${m.claimed} rows written`).join("; ")}.`,
    );
  }
  return out.join("\n");
}

/**
 * Sentry's "Still ..." line every 5 seconds, for commands without a progress bar: `line` gets the
 * seconds elapsed. Returns the function that stops it.
 */
export function startTicker(echo: (text: string) => void, line: (seconds: number) => string): () => void {
  const started = Date.now();
  const timer = setInterval(() => echo(line((Date.now() - started) / 1000)), 5000);
  timer.unref();
  return () => clearInterval(timer);
}
