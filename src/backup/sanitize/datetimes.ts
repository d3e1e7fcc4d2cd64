/**
 * Datetime remapping (Sentry's Sanitizer): every datetime in the export moves to a random instant
 * between the midpoints to its neighbours in the sorted set of all the export's datetimes, plus
 * the `--days-offset`. The relative order of all datetimes is kept (ties are possible at the
 * midpoints) while none keeps its value.
 *
 * Instants are held as microseconds since the epoch in typed arrays (16 bytes per distinct
 * datetime), collected by a first pass over the file; replacements are drawn on first use.
 */
import { ReloError } from "../errors.js";
import type { Random } from "./random.js";

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The instant an ISO-8601 datetime stands for, in microseconds since the epoch, or null when the
 * text is not one. A value without a zone is taken as UTC (exports are written in UTC).
 */
export function parseDatetime(text: string): number | null {
  if (CANONICAL.test(text)) {
    // The export's own form, nearly every value: Date.parse is exact for it once the date is
    // known to exist (it would roll 02-30 over into March).
    const ms = Date.parse(text);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === text) return ms * 1000;
  }
  const m = DATETIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
  const ms = utc(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return null;
  }
  const micros = Number((m[7] ?? "").padEnd(6, "0").slice(0, 6));
  return (ms - zoneOffsetMinutes(m[8]) * 60_000) * 1000 + micros;
}

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

function zoneOffsetMinutes(zone: string | undefined): number {
  if (!zone || zone === "Z" || zone === "z") return 0;
  const digits = zone.slice(1).replace(":", "");
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0");
  return zone[0] === "-" ? -minutes : minutes;
}

/** Collects the datetimes of the first pass. */
export class DatetimeCollector {
  private values = new Float64Array(1024);
  private count = 0;

  add(micros: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = micros;
  }

  /** The remapping of everything collected. */
  build(random: Random, daysOffset: number): DatetimeMap {
    const sorted = this.values.subarray(0, this.count).sort();
    let distinct = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i] !== sorted[distinct - 1]) sorted[distinct++] = sorted[i];
    }
    this.values = new Float64Array(0);
    return new DatetimeMap(sorted.slice(0, distinct), random, daysOffset);
  }
}

const DAY_MS = 86_400_000;
/** Python's datetime range, which Sentry's output (and relo's import) must stay in. */
const MIN_MS = utc(1, 0, 1);
const MAX_MS = utc(9999, 11, 31, 23, 59, 59, 999);

export class DatetimeMap {
  private readonly replacements: Float64Array;

  constructor(
    /** Distinct instants, ascending, in microseconds. */
    private readonly instants: Float64Array,
    private readonly random: Random,
    private readonly daysOffset: number,
  ) {
    this.replacements = new Float64Array(instants.length).fill(Number.NaN);
  }

  get size(): number {
    return this.instants.length;
  }

  /**
   * The replacement of an instant collected in the first pass, in milliseconds since the epoch:
   * uniform in [midpoint to the previous instant, midpoint to the next], plus the offset.
   * Throws when the instant was not collected (a bug) or the offset leaves years 1-9999.
   */
  map(micros: number): number {
    const i = this.indexOf(micros);
    if (i < 0) throw new Error(`the datetime ${micros}µs was not collected by the first pass`);
    if (Number.isNaN(this.replacements[i])) this.replacements[i] = this.draw(i);
    return this.replacements[i];
  }

  private draw(i: number): number {
    const last = this.instants.length - 1;
    const curr = Math.trunc(this.instants[i] / 1000);
    const prev = Math.trunc(this.instants[i > 0 ? i - 1 : i] / 1000);
    const next = Math.trunc(this.instants[i < last ? i + 1 : i] / 1000);
    const start = Math.trunc((curr - prev) / 2) + prev;
    const until = Math.trunc((next - curr) / 2) + curr;
    const moved = this.random.between(start, until) + this.daysOffset * DAY_MS;
    if (moved < MIN_MS || moved > MAX_MS) {
      throw new ReloError(
        `--days-offset ${this.daysOffset} moves ${new Date(curr).toISOString()} outside the years 1 to 9999`,
      );
    }
    return moved;
  }

  private indexOf(micros: number): number {
    let low = 0;
    let high = this.instants.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const v = this.instants[mid];
      if (v === micros) return mid;
      if (v < micros) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }
}

/**
 * A datetime as orjson writes a UTC datetime with millisecond precision: six fraction digits, or
 * none when the fraction is zero; `Z` in a plain file (OPT_UTC_Z), `+00:00` in an encrypted one.
 */
export function formatDatetime(ms: number, zulu: boolean): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0-9999
  const millis = iso.slice(20, 23);
  const base = iso.slice(0, 19);
  const zone = zulu ? "Z" : "+00:00";
  return millis === "000" ? `${base}${zone}` : `${base}.${millis}000${zone}`;
}
