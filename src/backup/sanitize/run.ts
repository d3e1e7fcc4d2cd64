/**
 * `relo backup sanitize`: replaces everything personal or secret in an export (emails, names,
 * usernames, IPs, URLs, tokens, secrets, datetimes) with random values of the same shape, so a
 * failing export can be shared, and still imports.
 *
 * Two streaming passes over the source, in bounded memory: the first checks every entry and
 * collects the datetimes (their replacements depend on the sorted set of all of them), the second
 * sanitizes entry by entry and writes orjson's layout, as Sentry's sanitize does. Interning tables
 * (one entry per distinct sanitized value) are the only state that grows with the input.
 */
import type { Writable } from "node:stream";
import { InputError } from "../errors.js";
import { Sink } from "../export/sink.js";
import type { Source } from "../import/run.js";
import { readEntries } from "../reader.js";
import { DatetimeCollector, type DatetimeMap, formatDatetime, parseDatetime } from "./datetimes.js";
import { type Entry, entryHead, readEntry } from "./entry.js";
import { Layout } from "./format.js";
import { Mappers } from "./mappers.js";
import { Random } from "./random.js";
import { type NewValue, type Rule, RuleBook, type RuleContext, RuleError } from "./rules.js";

export interface SanitizeOptions {
  /** Days added to every datetime, on top of the jitter (may be negative). */
  daysOffset?: number;
  /**
   * The form of an encrypted export's payload: compact JSON, datetimes ending in `+00:00`.
   * Otherwise orjson's 2-space indentation with `Z` datetimes, as Sentry writes a plain file.
   */
  compact?: boolean;
  /** Where random values come from (tests may supply their own). */
  random?: Random;
  /** Called after each entry of each pass with the entries read so far in that pass. */
  onProgress?: (pass: 1 | 2, entries: number) => void;
}

export interface SanitizeResult {
  /** Entries written, per model, in order of first appearance. */
  written: Map<string, number>;
  /** Entries of models relo does not define, dropped, per model. */
  dropped: Map<string, number>;
  /** Distinct datetimes remapped. */
  datetimes: number;
  /** Bytes written. */
  bytes: number;
}

/** A row a rule cannot sanitize (a datetime that is not one, a number where text belongs). */
export class SanitizeError extends InputError {
  override name = "SanitizeError";
}

/**
 * Sanitizes the export `source` (read twice) into `out`. Throws `JsonSyntaxError` (an
 * `InputError`) for input that is not a JSON array, `InputError` for an element that is not an
 * export entry, and `SanitizeError` for a value its rule cannot handle; those found by the first
 * pass (syntax, shape, datetimes) are thrown before anything is written.
 */
export async function sanitizeExport(
  source: Source,
  out: Writable,
  opts: SanitizeOptions = {},
): Promise<SanitizeResult> {
  const book = new RuleBook();
  const random = opts.random ?? new Random();
  const progress = opts.onProgress ?? (() => {});
  const datetimes = await collectDatetimes(source, book, random, opts.daysOffset ?? 0, progress);
  const ctx: RuleContext = { mappers: new Mappers(random), datetimes };
  const writer = new EntryWriter(new Layout(opts.compact ? null : 2), !opts.compact);
  const sink = new Sink(out);
  const written = new Map<string, number>();
  const dropped = new Map<string, number>();
  let first = true;
  sink.write("[");
  for await (const raw of readEntries(source.open())) {
    progress(2, raw.index + 1);
    const entry = readEntry(raw.value, raw.text, raw.index, raw.offset);
    const ruleList = book.rulesFor(entry.model);
    if (!ruleList) {
      count(dropped, entry.model);
      continue;
    }
    let changes: Map<string, NewValue>;
    try {
      changes = applyRules(entry, ruleList, ctx);
    } catch (err) {
      throw located(err, entry, raw.index, raw.offset);
    }
    if (sink.write(`${first ? "" : ","}${writer.entry(entry, changes)}`)) await sink.flush();
    first = false;
    count(written, entry.model);
  }
  sink.write(first ? "]" : `${writer.layout.pad(0)}]`);
  await sink.flush();
  return { written, dropped, datetimes: datetimes.size, bytes: sink.bytes };
}

/** The replacements `rules` make in one entry, by field. */
function applyRules(entry: Entry, rules: Rule[], ctx: RuleContext): Map<string, NewValue> {
  const changes = new Map<string, NewValue>();
  const row = {
    get: (field: string) => (Object.hasOwn(entry.fields, field) ? entry.fields[field] : undefined),
    text: (field: string) => {
      const span = entry.fieldSpans.get(field);
      return span && entry.text.slice(span.start, span.end);
    },
    set: (field: string, value: NewValue) => void changes.set(field, value),
  };
  for (const rule of rules) rule.apply(row, ctx);
  return changes;
}

/** The first pass: checks every entry's shape and datetimes, and remaps the datetimes. */
async function collectDatetimes(
  source: Source,
  book: RuleBook,
  random: Random,
  daysOffset: number,
  progress: (pass: 1 | 2, entries: number) => void,
): Promise<DatetimeMap> {
  const collector = new DatetimeCollector();
  for await (const raw of readEntries(source.open())) {
    progress(1, raw.index + 1);
    const head = entryHead(raw.value, raw.index, raw.offset);
    for (const field of book.datetimeFields(head.model)) {
      const value = Object.hasOwn(head.fields, field) ? head.fields[field] : null;
      if (value === null || value === undefined) continue;
      const micros = typeof value === "string" ? parseDatetime(value) : null;
      if (micros === null) {
        const err = new RuleError(field, "Existing value must be a valid ISO-8601 datetime string");
        throw located(err, head, raw.index, raw.offset);
      }
      collector.add(micros);
    }
  }
  return collector.build(random, daysOffset);
}

function located(err: unknown, entry: { model: string; pk: unknown }, index: number, offset: number): Error {
  if (!(err instanceof RuleError)) return err as Error;
  return new SanitizeError(
    `Cannot sanitize ${entry.model} (array element ${index}, pk ${JSON.stringify(entry.pk)}) at byte ${offset}: ${err.message}`,
    offset,
  );
}

function count(counts: Map<string, number>, model: string): void {
  counts.set(model, (counts.get(model) ?? 0) + 1);
}

/** Writes entries in orjson's form, unchanged values from their source text. */
class EntryWriter {
  constructor(
    readonly layout: Layout,
    /** Datetimes end in `Z` (a plain file) rather than `+00:00` (an encrypted payload). */
    private readonly zulu: boolean,
  ) {}

  /** One element of the top-level array, with its leading line break. */
  entry(entry: Entry, changes: Map<string, NewValue>): string {
    const { layout } = this;
    const members = entry.members.map((m) => {
      const value =
        m.key === "fields"
          ? this.fields(entry, changes)
          : layout.relayout(entry.text.slice(m.start, m.end), 2);
      return `${layout.pad(2)}${JSON.stringify(m.key)}${layout.colon}${value}`;
    });
    return `${layout.pad(1)}{${members.join(",")}${layout.pad(1)}}`;
  }

  private fields(entry: Entry, changes: Map<string, NewValue>): string {
    const { layout } = this;
    const parts: string[] = [];
    for (const [name, span] of entry.fieldSpans) {
      const change = changes.get(name);
      const value = change ? this.value(change) : layout.relayout(entry.text.slice(span.start, span.end), 3);
      parts.push(`${layout.pad(3)}${JSON.stringify(name)}${layout.colon}${value}`);
    }
    // A field a rule sets although the row lacks it (Sentry's `events = "[]"`) goes last.
    for (const [name, change] of changes) {
      if (!entry.fieldSpans.has(name)) {
        parts.push(`${layout.pad(3)}${JSON.stringify(name)}${layout.colon}${this.value(change)}`);
      }
    }
    return parts.length === 0 ? "{}" : `{${parts.join(",")}${layout.pad(2)}}`;
  }

  private value(v: NewValue): string {
    if (v.kind === "string") return JSON.stringify(v.value);
    if (v.kind === "datetime") return JSON.stringify(formatDatetime(v.ms, this.zulu));
    return this.layout.relayout(v.text, 3);
  }
}
