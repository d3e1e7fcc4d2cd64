/**
 * Import progress on stderr, in one of three forms built on the same figures: a bar on a terminal,
 * a plain line every 5 seconds elsewhere (Sentry's "Still importing" line, with the figures
 * added), or, with `--progress json`, one JSON object per line for automation.
 */
import cliProgress from "cli-progress";
import type { Printer } from "./output.js";

export type ProgressMode = "auto" | "json" | "none";
export const PROGRESS_MODES: ProgressMode[] = ["auto", "json", "none"];

export type Phase = "scanning" | "importing" | "done";

/** One progress report. Totals and the ETA are null when unknown. */
export interface ProgressFigures {
  phase: Phase;
  /** The model being imported (the last one, once done). */
  model: string | null;
  model_rows_done: number;
  model_rows_total: number | null;
  rows_done: number;
  rows_total: number | null;
  bytes_read: number;
  bytes_total: number | null;
  elapsed_s: number;
  rows_per_s: number;
  bytes_per_s: number;
  eta_s: number | null;
}

export interface Progress {
  /** The export is read `passes` times (twice with a selection: a pre-read, then the import). */
  setBytesTotal(total: number | null): void;
  bytes(n: number): void;
  /** The pre-read counted the entries per model: totals are known from now on. */
  totals(perModel: Map<string, number>): void;
  rows(model: string, n: number): void;
  stop(): void;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** The running figures every display shows. */
export class ProgressCounter {
  private bytesRead = 0;
  private bytesTotal: number | null = null;
  private rowsDone = 0;
  private perModelTotal: Map<string, number> | null = null;
  private perModelDone = new Map<string, number>();
  private model: string | null = null;
  private phase: Phase;
  private readonly started = Date.now();

  constructor(scanning: boolean) {
    this.phase = scanning ? "scanning" : "importing";
  }

  setBytesTotal(total: number | null): void {
    this.bytesTotal = total;
  }

  bytes(n: number): void {
    this.bytesRead += n;
  }

  totals(perModel: Map<string, number>): void {
    this.perModelTotal = perModel;
    this.phase = "importing";
  }

  /** Counts rows; true when they belong to a model other than the previous batch's. */
  rows(model: string, n: number): boolean {
    const switched = model !== this.model;
    this.model = model;
    this.rowsDone += n;
    this.perModelDone.set(model, (this.perModelDone.get(model) ?? 0) + n);
    return switched;
  }

  done(): void {
    this.phase = "done";
  }

  figures(): ProgressFigures {
    const elapsed = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rowsTotal = this.perModelTotal ? [...this.perModelTotal.values()].reduce((a, b) => a + b, 0) : null;
    const bytesRate = this.bytesRead / elapsed;
    const rowsRate = this.rowsDone / elapsed;
    let eta: number | null = null;
    if (this.phase === "done") eta = 0;
    else if (this.bytesTotal && bytesRate > 0)
      eta = Math.max(0, (this.bytesTotal - this.bytesRead) / bytesRate);
    else if (rowsTotal !== null && rowsRate > 0) eta = Math.max(0, (rowsTotal - this.rowsDone) / rowsRate);
    return {
      phase: this.phase,
      model: this.model,
      model_rows_done: this.model ? (this.perModelDone.get(this.model) ?? 0) : 0,
      model_rows_total: this.model && this.perModelTotal ? (this.perModelTotal.get(this.model) ?? 0) : null,
      rows_done: this.rowsDone,
      rows_total: rowsTotal,
      bytes_read: this.bytesRead,
      bytes_total: this.bytesTotal,
      elapsed_s: round(elapsed, 3),
      rows_per_s: round(rowsRate),
      bytes_per_s: round(bytesRate),
      eta_s: eta === null ? null : round(eta),
    };
  }
}

function mb(n: number | null): string {
  return n === null ? "?" : (n / 1e6).toFixed(1);
}

function describe(f: ProgressFigures): string {
  const of = (done: number, total: number | null) => (total === null ? `${done}` : `${done}/${total}`);
  const model = f.model ? `${f.model} ${of(f.model_rows_done, f.model_rows_total)} | ` : "";
  const eta = f.eta_s === null ? "?" : `${Math.round(f.eta_s)}s`;
  return `${model}${of(f.rows_done, f.rows_total)} rows | ${mb(f.bytes_read)}/${mb(f.bytes_total)} MB | ${Math.round(f.rows_per_s)} rows/s ${mb(f.bytes_per_s)} MB/s | ETA ${eta}`;
}

/** Progress in `mode`; `auto` is the bar on a terminal, a line every 5 seconds elsewhere. */
export function startProgress(printer: Printer, mode: ProgressMode, scanning: boolean): Progress {
  const counter = new ProgressCounter(scanning);
  if (mode === "none" || (mode === "auto" && printer.silent)) return quiet(counter);
  if (mode === "json") return jsonLines(counter);
  if (process.stderr.isTTY) return bar(counter);
  return stillImporting(counter, printer);
}

function quiet(counter: ProgressCounter): Progress {
  return {
    setBytesTotal: (t) => counter.setBytesTotal(t),
    bytes: (n) => counter.bytes(n),
    totals: (t) => counter.totals(t),
    rows: (m, n) => void counter.rows(m, n),
    stop: () => counter.done(),
  };
}

/** A JSON line every second, when the model changes, when the pre-read ends, and at the end. */
function jsonLines(counter: ProgressCounter): Progress {
  const emit = () => process.stderr.write(`${JSON.stringify(counter.figures())}\n`);
  const timer = setInterval(emit, 1000);
  timer.unref();
  let stopped = false;
  return {
    setBytesTotal: (t) => counter.setBytesTotal(t),
    bytes: (n) => counter.bytes(n),
    totals(t) {
      counter.totals(t);
      emit();
    },
    rows(model, n) {
      if (counter.rows(model, n)) emit();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      counter.done();
      emit();
    },
  };
}

function bar(counter: ProgressCounter): Progress {
  const b = new cliProgress.SingleBar(
    {
      format: "{phase} [{bar}] {percentage}% | {figures}",
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const update = () => {
    const f = counter.figures();
    const total = f.bytes_total ?? Math.max(f.bytes_read, 1);
    const payload = { phase: f.phase === "scanning" ? "Scanning" : "Importing", figures: describe(f) };
    if (!started) {
      b.start(total, f.bytes_read, payload);
      started = true;
    } else {
      b.setTotal(total);
      b.update(f.bytes_read, payload);
    }
  };
  const timer = setInterval(update, 200);
  timer.unref();
  let stopped = false;
  return {
    setBytesTotal: (t) => counter.setBytesTotal(t),
    bytes: (n) => counter.bytes(n),
    totals: (t) => counter.totals(t),
    rows: (m, n) => void counter.rows(m, n),
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      counter.done();
      update();
      b.stop();
    },
  };
}

function stillImporting(counter: ProgressCounter, printer: Printer): Progress {
  const timer = setInterval(() => {
    const f = counter.figures();
    const verb = f.phase === "scanning" ? "scanning" : "importing";
    printer.echo(`Still ${verb}: ${f.elapsed_s.toFixed(2)} seconds elapsed (${describe(f)}).`);
  }, 5000);
  timer.unref();
  return {
    setBytesTotal: (t) => counter.setBytesTotal(t),
    bytes: (n) => counter.bytes(n),
    totals: (t) => counter.totals(t),
    rows: (m, n) => void counter.rows(m, n),
    stop() {
      clearInterval(timer);
      counter.done();
    },
  };
}
