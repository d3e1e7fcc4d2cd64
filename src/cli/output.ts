/**
 * What the CLI tells the user, all on stderr (stdout carries data only): messages, progress, the
 * per-model summary, and errors. `--silent` turns messages off; `--no-prompt` answers yes to
 * confirmations.
 */
import confirm from "@inquirer/confirm";
import cliProgress from "cli-progress";
import { UsageError } from "../backup/errors.js";
import type { ImportStats } from "../backup/import/stats.js";

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

export interface Progress {
  /** Bytes read so far. */
  bytes(n: number): void;
  rows(n: number): void;
  stop(): void;
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

/**
 * A progress bar on a terminal; elsewhere a plain line every 5 seconds (Sentry's "Still
 * importing" line, with the figures added).
 */
export function startProgress(printer: Printer, verb: string, totalBytes: number | null): Progress {
  let bytes = 0;
  let rows = 0;
  const started = Date.now();
  if (printer.silent) return { bytes() {}, rows() {}, stop() {} };
  if (process.stderr.isTTY && totalBytes) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${verb} [{bar}] {percentage}% | {mb}/{totalMb} MB | {rows} rows | {rate} rows/s | ETA {eta}s`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(totalBytes, 0, { mb: "0.0", totalMb: mb(totalBytes), rows: 0, rate: 0 });
    const update = () => {
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(bytes, { mb: mb(bytes), rows, rate: Math.round(rows / secs) });
    };
    const timer = setInterval(update, 200);
    return {
      bytes: (n) => {
        bytes += n;
      },
      rows: (n) => {
        rows += n;
      },
      stop() {
        clearInterval(timer);
        update();
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => {
    const secs = ((Date.now() - started) / 1000).toFixed(2);
    const of = totalBytes ? ` of ${mb(totalBytes)}` : "";
    printer.echo(
      `Still ${verb.toLowerCase()}: ${secs} seconds elapsed (${rows} rows, ${mb(bytes)}${of} MB read).`,
    );
  }, 5000);
  timer.unref();
  return {
    bytes: (n) => {
      bytes += n;
    },
    rows: (n) => {
      rows += n;
    },
    stop: () => clearInterval(timer),
  };
}

/** The per-model summary table printed after an import. */
export function formatStats(stats: ImportStats): string {
  const header = ["model", "read", "inserted", "existing", "overwritten", "dropped"];
  const lines = [...stats.models].map(([model, s]) => {
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    return [model, s.read, s.inserted, s.existing, s.overwritten, dropped].map(String);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const reasons = [...stats.models].flatMap(([model, s]) =>
    Object.entries(s.dropped).map(([reason, n]) => `  ${model}: ${n} dropped: ${reason}`),
  );
  return [fmt(header), ...lines.map(fmt), ...(reasons.length ? ["", ...reasons] : [])].join("\n");
}
