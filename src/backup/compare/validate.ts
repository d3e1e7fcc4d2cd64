/**
 * `relo backup compare`: Sentry's validate(), pairing the rows of two exports by model and
 * ordinal and reporting every difference the comparator table does not excuse.
 *
 * Neither export is held in memory. Each side is read once into a temporary SQLite index (row
 * text, pk, ordinal key); ordinals, counts and pk → ordinal lookups come from there, and the rows
 * are then compared pair by pair, a page at a time. The index is deleted afterwards.
 *
 * Ordinals follow Sentry: by position (pks must ascend) for most models; for models with a custom
 * ordinal (users by username, emails by address, ...), by the sorted key, with a later duplicate
 * replacing the earlier one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { registry as defaultRegistry, type Registry } from "../../models/registry.js";
import type { ModelDef } from "../../models/types.js";
import type { Finding, InstanceID } from "../findings.js";
import { parseStoredJson } from "../lossless.js";
import { dumpJson } from "../pyjson.js";
import type { RawEntry } from "../reader.js";
import { type OrdinalLookup, pyEqual, type Side } from "./comparators.js";
import { unifiedDiff } from "./diff.js";
import { type ComparatorTable, defaultComparators } from "./table.js";

export type SideName = "left" | "right";

/** A model name no registry defines (Sentry: "Unknown model class"). */
export class UnknownModelError extends Error {
  constructor(
    readonly side: SideName,
    readonly model: string,
  ) {
    super(`the ${side} export holds rows of \`${model}\`, a model relo does not know`);
  }
}

const PAGE = 500;

export interface CompareInput {
  left: AsyncIterable<RawEntry>;
  right: AsyncIterable<RawEntry>;
}

export async function compareExports(
  input: CompareInput,
  reg: Registry = defaultRegistry,
): Promise<Finding[]> {
  const index = new RowIndex();
  try {
    const findings: Finding[] = [];
    const left = await index.load(0, input.left, reg, findings);
    const right = await index.load(1, input.right, reg, findings);
    for (const model of unionOrder(left.order, right.order)) {
      const l = left.counts.get(model) ?? 0;
      const r = right.counts.get(model) ?? 0;
      if (l !== r) findings.push(unequalCounts(model, l, r));
    }
    if (findings.length > 0) return findings;
    const table = defaultComparators(reg);
    for (const model of right.order) findings.push(...index.compareModel(reg.get(model)!, table));
    return findings;
  } finally {
    index.close();
  }
}

function unionOrder(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

function unequalCounts(model: string, l: number, r: number): Finding {
  return {
    finding: "ComparatorFinding",
    kind: "UnequalCounts",
    on: { model, ordinal: null },
    left_pk: null,
    right_pk: null,
    reason: `counted ${l} left entries and ${r} right entries`,
  };
}

interface Loaded {
  /** Sentry's model map order: by first positional row; models with only custom ordinals last. */
  order: string[];
  counts: Map<string, number>;
}

class RowIndex {
  private readonly dir = mkdtempSync(join(tmpdir(), "relo-compare-"));
  private readonly db: Database.Database;

  constructor() {
    this.db = new Database(join(this.dir, "index.db"));
    this.db.pragma("journal_mode = OFF");
    this.db.pragma("synchronous = OFF");
    this.db.exec(`
      CREATE TABLE row (side INTEGER, model TEXT, ordinal INTEGER, okey BLOB, pk INTEGER, text TEXT);
      CREATE UNIQUE INDEX row_key ON row (side, model, okey);
    `);
  }

  async load(
    side: 0 | 1,
    entries: AsyncIterable<RawEntry>,
    reg: Registry,
    findings: Finding[],
  ): Promise<Loaded> {
    const name: SideName = side === 0 ? "left" : "right";
    const insert = this.db.prepare("INSERT OR IGNORE INTO row VALUES (?, ?, ?, ?, ?, ?)");
    const replace = this.db.prepare(
      "UPDATE row SET pk = ?, text = ? WHERE side = ? AND model = ? AND okey = ?",
    );
    const positional = new Map<string, { next: number; max: number | null }>();
    const customModels: string[] = [];
    const usernames = new Map<number, string>();
    const order: string[] = [];
    const seen = new Set<string>();
    this.db.exec("BEGIN");
    for await (const raw of entries) {
      const entry = raw.value as { model?: unknown; pk?: unknown; fields?: Record<string, unknown> };
      const model = String(entry.model).toLowerCase();
      const def = reg.get(model);
      if (!def) throw new UnknownModelError(name, model);
      const pk = entry.pk as number;
      const fields = entry.fields ?? {};
      if (model === "sentry.user") usernames.set(pk, String(fields.username));
      const ordinalFields = customOrdinalOf(def, fields);
      if (!seen.has(model) && !ordinalFields) {
        seen.add(model);
        order.push(model);
      }
      if (!ordinalFields) {
        const counter = positional.get(model) ?? { next: 1, max: null };
        positional.set(model, counter);
        if (counter.max !== null && pk <= counter.max)
          findings.push(unordered(model, counter.next, side, pk, counter.max));
        counter.max = counter.max === null ? pk : Math.max(counter.max, pk);
        insert.run(side, model, counter.next++, null, pk, raw.text);
        continue;
      }
      if (!customModels.includes(model)) customModels.push(model);
      const key = ordinalKey(ordinalFields, fields, usernames);
      const okey = encodeKey(key);
      if (insert.run(side, model, null, okey, pk, raw.text).changes === 0) {
        if (model !== "sentry.useroption") findings.push(duplicateOrdinal(model, side, pk, key));
        replace.run(pk, raw.text, side, model, okey);
      }
    }
    const counts = new Map<string, number>();
    for (const [model, c] of positional) counts.set(model, c.next - 1);
    for (const model of customModels) {
      const base = counts.get(model) ?? 0;
      counts.set(model, base + this.numberCustom(side, model, base));
      if (!seen.has(model)) {
        seen.add(model);
        order.push(model);
      }
    }
    this.db.exec("COMMIT");
    this.db.exec(`CREATE INDEX IF NOT EXISTS row_ordinal ON row (side, model, ordinal)`);
    this.db.exec(`CREATE INDEX IF NOT EXISTS row_pk ON row (side, model, pk)`);
    return { order, counts };
  }

  /** Gives custom-ordinal rows ordinals after `base`, in key order; returns how many. */
  private numberCustom(side: number, model: string, base: number): number {
    const ids = this.db
      .prepare("SELECT rowid FROM row WHERE side = ? AND model = ? AND okey IS NOT NULL ORDER BY okey")
      .pluck()
      .all(side, model) as number[];
    const set = this.db.prepare("UPDATE row SET ordinal = ? WHERE rowid = ?");
    for (let i = 0; i < ids.length; i++) set.run(base + i + 1, ids[i]);
    return ids.length;
  }

  compareModel(def: ModelDef, table: ComparatorTable): Finding[] {
    const model = def.name;
    const findings: Finding[] = [];
    const page = this.db.prepare(`
      SELECT l.pk AS lpk, l.text AS ltext, r.pk AS rpk, r.text AS rtext, r.ordinal AS ordinal
      FROM row r JOIN row l ON l.side = 0 AND l.model = r.model AND l.ordinal = r.ordinal
      WHERE r.side = 1 AND r.model = ? AND r.ordinal > ? ORDER BY r.ordinal LIMIT ${PAGE}`);
    const lookup = this.db.prepare("SELECT ordinal FROM row WHERE side = ? AND model = ? AND pk = ?").pluck();
    const ordinals: OrdinalLookup = {
      left: (m, pk) => (lookup.get(0, m, pk) as number | undefined) ?? null,
      right: (m, pk) => (lookup.get(1, m, pk) as number | undefined) ?? null,
    };
    const comparators = table.get(model) ?? [];
    let after = 0;
    for (;;) {
      const rows = page.all(model, after) as {
        lpk: number;
        ltext: string;
        rpk: number;
        rtext: string;
        ordinal: number;
      }[];
      if (rows.length === 0) return findings;
      for (const row of rows) {
        after = row.ordinal;
        const on: InstanceID = { model, ordinal: row.ordinal };
        const left: Side = { pk: row.lpk, fields: fieldsOf(row.ltext) };
        const right: Side = { pk: row.rpk, fields: fieldsOf(row.rtext) };
        for (const c of comparators) {
          const missing = c.existence(on, left, right);
          findings.push(...(missing.length > 0 ? missing : c.compare(on, left, right, ordinals)));
        }
        for (const c of comparators) c.scrub(left, right);
        dropNewDefaults(def, left, right);
        const diff = unifiedDiff(prettyLines(left.fields), prettyLines(right.fields));
        if (diff.length > 0) {
          findings.push({
            finding: "ComparatorFinding",
            kind: "UnequalJSON",
            on,
            left_pk: left.pk,
            right_pk: right.pk,
            reason: `\n    ${diff.join("\n    ")}`,
          });
        }
      }
    }
  }

  close(): void {
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A field the left export does not have at all (it predates the field) is not a difference when
 * the right holds the field's default: an import of an older export fills it in. Sentry reports
 * these as UnequalJSON; relo accepts exports from older versions, so it does not.
 */
function dropNewDefaults(def: ModelDef, left: Side, right: Side): void {
  for (const field of def.fields) {
    if (field.name in left.fields || !(field.name in right.fields) || field.default === undefined) continue;
    if (field.type === "datetime") continue;
    const value = typeof field.default === "function" ? (field.default as () => unknown)() : field.default;
    if (pyEqual(value, right.fields[field.name])) delete right.fields[field.name];
  }
}

function fieldsOf(text: string): Record<string, unknown> {
  const v = parseStoredJson(text) as { fields?: Record<string, unknown> };
  return v.fields ?? {};
}

/** simplejson's pretty form: sorted keys, indent 2, NaN as null. */
function prettyLines(fields: Record<string, unknown>): string[] {
  return dumpJson(fields, { indent: 2, sortKeys: true }).split("\n");
}

export function customOrdinalOf(def: ModelDef, fields: Record<string, unknown>): string[] | null {
  const c = def.customOrdinal;
  if (!c) return null;
  return typeof c === "function" ? c(fields) : c;
}

type KeyPart = string | number | boolean | null;

function ordinalKey(
  names: string[],
  fields: Record<string, unknown>,
  usernames: Map<number, string>,
): KeyPart[] {
  return names.map((n) => {
    const v = fields[n];
    if ((n === "user" || n === "user_id") && typeof v === "number")
      return usernames.get(v) ?? `<unknown user ${v}>`;
    return v === undefined ? null : (v as KeyPart);
  });
}

/** A byte string whose memcmp order is Python's tuple order (strings by code point). */
function encodeKey(parts: KeyPart[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    if (p === null) chunks.push(Buffer.from([0]));
    else if (typeof p === "number" || typeof p === "boolean") {
      const b = Buffer.alloc(9);
      b[0] = 1;
      b.writeDoubleBE(Number(p), 1);
      // Flip bits so negative and positive doubles sort as numbers.
      if (b[1] & 0x80) for (let i = 1; i < 9; i++) b[i] ^= 0xff;
      else b[1] ^= 0x80;
      chunks.push(b);
    } else {
      const s = Buffer.from(String(p), "utf8");
      const escaped: number[] = [2];
      for (const byte of s) {
        if (byte === 0) escaped.push(0, 1);
        else escaped.push(byte);
      }
      escaped.push(0, 0);
      chunks.push(Buffer.from(escaped));
    }
  }
  return Buffer.concat(chunks);
}

function unordered(model: string, ordinal: number, side: 0 | 1, pk: number, max: number): Finding {
  return {
    finding: "ComparatorFinding",
    kind: "UnorderedInput",
    on: { model, ordinal },
    left_pk: side === 0 ? pk : null,
    right_pk: side === 1 ? pk : null,
    reason: `instances not listed in ascending \`pk\` order; \`pk\` ${pk} is less than or equal to ${max} which precedes it`,
  };
}

function duplicateOrdinal(model: string, side: 0 | 1, pk: number, key: KeyPart[]): Finding {
  return {
    finding: "ComparatorFinding",
    kind: "DuplicateCustomOrdinal",
    on: { model, ordinal: null },
    left_pk: side === 0 ? pk : null,
    right_pk: side === 1 ? pk : null,
    reason: `custom ordinal value \`${pyTuple(key)}\` appears multiple times`,
  };
}

function pyTuple(parts: KeyPart[]): string {
  const shown = parts.map((p) => {
    if (p === null) return "None";
    if (typeof p === "boolean") return p ? "True" : "False";
    if (typeof p === "number") return String(p);
    return `'${p.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  });
  return `(${shown.join(", ")}${shown.length === 1 ? "," : ""})`;
}
