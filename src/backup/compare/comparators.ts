/**
 * Sentry's comparators: per-model rules that decide when two versions of a field are "equal
 * enough" (a later date_updated, a re-suffixed slug, a regenerated secret), then remove the field
 * so that the remaining JSON can be diffed verbatim. Names, reasons and truncation rules are
 * Sentry's, since they end up in findings files.
 */
import type { Finding, InstanceID } from "../findings.js";
import { PyNumber } from "../pyjson.js";

export interface Side {
  pk: number;
  fields: Record<string, unknown>;
}

/** pk → ordinal lookups for foreign keys, per side. */
export interface OrdinalLookup {
  left(model: string, pk: number): number | null;
  right(model: string, pk: number): number | null;
}

export abstract class Comparator {
  readonly fields: Set<string>;
  constructor(
    readonly kind: string,
    fields: Iterable<string>,
  ) {
    this.fields = new Set(fields);
  }

  /** Whether a value missing on the right only is a finding (EqualOrRemoved allows it). */
  protected readonly rightMayBeMissing: boolean = false;

  /** Fields present (non-null) on one side only. */
  existence(on: InstanceID, left: Side, right: Side): Finding[] {
    const out: Finding[] = [];
    for (const f of this.fields) {
      const missingLeft = left.fields[f] === undefined || left.fields[f] === null;
      const missingRight = right.fields[f] === undefined || right.fields[f] === null;
      if (missingLeft && !missingRight) {
        out.push(this.finding(on, left, right, `the left \`${f}\` value was missing`, true));
      }
      if (missingRight && !missingLeft && !this.rightMayBeMissing) {
        out.push(this.finding(on, left, right, `the right \`${f}\` value was missing`, true));
      }
    }
    return out;
  }

  compare(on: InstanceID, left: Side, right: Side, ordinals: OrdinalLookup): Finding[] {
    const out: Finding[] = [];
    for (const f of [...this.fields].sort()) {
      const l = left.fields[f];
      const r = right.fields[f];
      if ((l === undefined || l === null) && (r === undefined || r === null)) continue;
      const reason = this.check(f, l, r, ordinals);
      for (const text of Array.isArray(reason) ? reason : reason ? [reason] : []) {
        out.push(this.finding(on, left, right, text));
      }
    }
    return out;
  }

  /** One field's verdict: null when it passes, else the reason(s). */
  protected abstract check(
    field: string,
    l: unknown,
    r: unknown,
    ordinals: OrdinalLookup,
  ): string | string[] | null;

  scrub(left: Side, right: Side): void {
    for (const f of this.fields) {
      delete left.fields[f];
      delete right.fields[f];
    }
  }

  protected finding(on: InstanceID, left: Side, right: Side, reason: string, existence = false): Finding {
    return {
      finding: "ComparatorFinding",
      kind: existence ? `${this.kind}ExistenceCheck` : this.kind,
      on,
      left_pk: left.pk,
      right_pk: right.pk,
      reason,
    };
  }
}

export class AutoSuffixComparator extends Comparator {
  constructor(...fields: string[]) {
    super("AutoSuffixComparator", fields);
  }
  protected check(f: string, l: unknown, r: unknown) {
    if (l === r || String(r).startsWith(`${l}-`)) return null;
    return `the left value (${l}) of \`${f}\` was not equal to or a dashed prefix of the right value (${r})`;
  }
}

export class DateUpdatedComparator extends Comparator {
  constructor(...fields: string[]) {
    super("DateUpdatedComparator", fields);
  }
  protected check(f: string, l: unknown, r: unknown) {
    const lv = (l as string) || EPOCH;
    const rv = (r as string) || EPOCH;
    if (instant(lv) <= instant(rv)) return null;
    return `the left value (${lv}) of \`${f}\` was not less than or equal to the right value (${rv})`;
  }
}

export class DatetimeEqualityComparator extends Comparator {
  constructor(...fields: string[]) {
    super("DatetimeEqualityComparator", fields);
  }
  protected check(f: string, l: unknown, r: unknown) {
    if (instant(String(l)) === instant(String(r))) return null;
    return `the left value (${l}) of \`${f}\` was not equal to the right value (${r})`;
  }
}

export class ForeignKeyComparator extends Comparator {
  /**
   * `optional`: fields whose target may be missing from an export (relo keeps an organization
   * member whose inviter was not exported); missing on both sides, they match.
   */
  constructor(
    private readonly targets: Map<string, string>,
    private readonly optional: ReadonlySet<string> = new Set(),
  ) {
    super("ForeignKeyComparator", targets.keys());
  }
  protected check(f: string, l: unknown, r: unknown, ordinals: OrdinalLookup) {
    const model = this.targets.get(f)!;
    const lo = typeof l === "number" ? ordinals.left(model, l) : null;
    const ro = typeof r === "number" ? ordinals.right(model, r) : null;
    if (lo === null && ro === null && this.optional.has(f)) return null;
    const reasons: string[] = [];
    if (lo === null)
      reasons.push(`the left foreign key ordinal for \`${f}\` model with pk \`${py(l)}\` could not be found`);
    if (ro === null)
      reasons.push(
        `the right foreign key ordinal for \`${f}\` model with pk \`${py(r)}\` could not be found`,
      );
    if (reasons.length > 0) return reasons;
    if (lo === ro) return null;
    return `the left foreign key ordinal (${lo}) for \`${f}\` was not equal to the right foreign key ordinal (${ro})`;
  }
}

/** Compares private values, and shows them only truncated. */
abstract class ObfuscatingComparator extends Comparator {
  protected check(f: string, l: unknown, r: unknown) {
    if (pyEqual(l, r)) return null;
    return `the left value ("${this.shown(l)}") of \`${f}\` was not equal to the right value ("${this.shown(r)}")`;
  }
  protected shown(v: unknown): string {
    const first = Array.isArray(v) ? v[0] : v;
    return this.truncate(String(first));
  }
  abstract truncate(value: string): string;
}

export class EmailObfuscatingComparator extends ObfuscatingComparator {
  constructor(...fields: string[]) {
    super("EmailObfuscatingComparator", fields);
  }
  truncate(value: string): string {
    const parts = value.split("@");
    if (parts.length !== 2) return value;
    return `${parts[0].slice(0, 1)}...@...${parts[1].slice(-6)}`;
  }
}

export class HashObfuscatingComparator extends ObfuscatingComparator {
  constructor(...fields: string[]) {
    super("HashObfuscatingComparator", fields);
  }
  truncate(value: string): string {
    if (value.length >= 16) return `${value.slice(0, 3)}...${value.slice(-3)}`;
    if (value.length >= 8) return `${value.slice(0, 1)}...${value.slice(-1)}`;
    return "...";
  }
}

/** Sentry's user password rule: an import may make a user unclaimed, with a new password. */
export class UserPasswordObfuscatingComparator extends ObfuscatingComparator {
  constructor() {
    super("UserPasswordObfuscatingComparator", ["password"]);
  }
  truncate(value: string): string {
    if (value.length > 80) return `${value.slice(0, 12)}...${value.slice(-6)}`;
    if (value.length > 40) return `${value.slice(0, 6)}...${value.slice(-4)}`;
    return "...";
  }
  override compare(on: InstanceID, left: Side, right: Side): Finding[] {
    const out: Finding[] = [];
    const add = (reason: string) => out.push(this.finding(on, left, right, reason));
    const l = left.fields;
    const r = right.fields;
    if (l.is_unclaimed && !r.is_unclaimed) {
      add(
        "the left value of `is_unclaimed` was True and the right value was False; the act of importing cannot claim users",
      );
    }
    if (!r.is_unclaimed) {
      if (!pyEqual(l.password, r.password)) {
        add(
          `the left value ("${this.shown(l.password)}") of \`password\` was not equal to the right value ("${this.shown(r.password)}")`,
        );
      }
      return out;
    }
    if (pyEqual(l.password, r.password)) {
      add(
        `the left value ("${this.shown(l.password)}") of \`password\` was equal to the right value ("${this.shown(r.password)}"), but the right side is unclaimed and should have a new password`,
      );
    }
    const lc = (l.last_password_change as string) || EPOCH;
    const rc = (r.last_password_change as string) || EPOCH;
    if (instant(lc) > instant(rc)) {
      add(
        `the left value (${lc}) of \`last_password_change\` was not less than or equal to the right value (${rc})`,
      );
    }
    if (r.is_password_expired) {
      add("the right value of `is_password_expired` must be False for unclaimed users");
    }
    return out;
  }
}

/** Fields that differ legitimately between exports (derived or regenerated values). */
export class IgnoredComparator extends Comparator {
  constructor(...fields: string[]) {
    super("IgnoredComparator", fields);
  }
  override existence(): Finding[] {
    return [];
  }
  override compare(): Finding[] {
    return [];
  }
  protected check() {
    return null;
  }
}

/** Random secrets: each side must be lower-case hex of the given byte length. */
export class SecretHexComparator extends Comparator {
  private readonly pattern: RegExp;
  constructor(bytes: number, ...fields: string[]) {
    super("SecretHexComparator", fields);
    this.pattern = new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
  }
  protected check(f: string, l: unknown, r: unknown) {
    return regexReasons(this.pattern, f, l, r);
  }
}

const UUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;

/** Freshly generated UUIDs: different on each side, each a valid UUID4. */
export class UUID4Comparator extends Comparator {
  constructor(...fields: string[]) {
    super("UUID4Comparator", fields);
  }
  protected check(f: string, l: unknown, r: unknown) {
    const reasons: string[] = [];
    if (l === r)
      reasons.push(`the left value (${l}) of the UUID field \`${f}\` was equal to the right value (${r})`);
    return [...reasons, ...regexReasons(UUID4, f, l, r)];
  }
}

const SUBSCRIPTION_ID = /^\d+\/[0-9a-f]{32}$/;

export class SubscriptionIDComparator extends Comparator {
  constructor(...fields: string[]) {
    super("SubscriptionIDComparator", fields);
  }
  protected check(f: string, l: unknown, r: unknown) {
    const reasons: string[] = [];
    if (l === r) {
      reasons.push(
        `the left value (${l}) of the subscription ID field \`${f}\` was equal to the right value (${r})`,
      );
    }
    return [...reasons, ...regexReasons(SUBSCRIPTION_ID, f, l, r)];
  }
}

export class UnorderedListComparator extends Comparator {
  constructor(...fields: string[]) {
    super("UnorderedListComparator", fields);
  }
  protected check(f: string, l: unknown, r: unknown) {
    const sorted = (v: unknown) =>
      (Array.isArray(v) ? v : v == null ? [] : [v]).map((x) => JSON.stringify(x)).sort();
    if (JSON.stringify(sorted(l)) === JSON.stringify(sorted(r))) return null;
    return `the left value (${py(l)}) of the unordered list field \`${f}\` was not equal to the right value (${py(r)})`;
  }
}

/** The right side may drop the value (a newer Sentry removed it); if kept it must be equal. */
export class EqualOrRemovedComparator extends Comparator {
  constructor(...fields: string[]) {
    super("EqualOrRemovedComparator", fields);
  }
  protected override readonly rightMayBeMissing = true;

  protected check(f: string, l: unknown, r: unknown) {
    if (r === undefined || r === null || pyEqual(l, r)) return null;
    return `the left value ("${py(l)}") of \`${f}\` was not equal to the right value ("${py(r)}")`;
  }
}

function regexReasons(pattern: RegExp, f: string, l: unknown, r: unknown): string[] {
  const out: string[] = [];
  if (!pattern.test(String(l)))
    out.push(`the left value ("${l}") of \`${f}\` was not matched by this regex: ${pattern.source}`);
  if (!pattern.test(String(r)))
    out.push(`the right value ("${r}") of \`${f}\` was not matched by this regex: ${pattern.source}`);
  return out;
}

const EPOCH = "1970-01-01T00:00:00+00:00";

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Microseconds since the epoch, as dateutil reads an ISO-8601 text (naive means UTC here). */
export function instant(text: string): number {
  const m = ISO.exec(text.trim());
  if (!m) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? Number.NaN : ms * 1000;
  }
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", tz] = m;
  let micros = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) * 1000 + Number(frac.padEnd(6, "0") || 0);
  if (tz && tz.toUpperCase() !== "Z") {
    const sign = tz[0] === "-" ? -1 : 1;
    const digits = tz.slice(1).replace(":", "");
    const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60e6;
    micros -= sign * offset;
  }
  return micros;
}

/** Python's `==` on JSON values: numbers by value (100 == 100.0), containers deeply. */
export function pyEqual(a: unknown, b: unknown): boolean {
  const na = a instanceof PyNumber ? Number(a.text) : a;
  const nb = b instanceof PyNumber ? Number(b.text) : b;
  if (na === nb) return true;
  if (typeof na !== "object" || typeof nb !== "object" || na === null || nb === null) return false;
  if (Array.isArray(na) !== Array.isArray(nb)) return false;
  if (Array.isArray(na)) {
    const bb = nb as unknown[];
    return na.length === bb.length && na.every((v, i) => pyEqual(v, bb[i]));
  }
  const ka = Object.keys(na);
  const ob = nb as Record<string, unknown>;
  return (
    ka.length === Object.keys(ob).length &&
    ka.every((k) => k in ob && pyEqual((na as Record<string, unknown>)[k], ob[k]))
  );
}

/** A value as Python's str() shows it in a reason. */
function py(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === "string" ? `'${x}'` : py(x))).join(", ")}]`;
  if (v instanceof PyNumber) return v.text;
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
