/**
 * The vocabulary every model definition is written in.
 *
 * A model definition is plain data (fields, keys, scope, silo, table) plus optional relocation
 * hooks. The registry (`registry.ts`) collects them; the store derives the schema from them and
 * the import and export stages read them. Names follow Sentry's: a model is `app.model` in lower
 * case, a field is named as it appears in an export (`organization`, `user_id`), and its column is
 * the database column Sentry uses (`organization_id`).
 */

/** Sentry's RelocationScope, in Sentry's order. */
export type RelocationScope = "Excluded" | "User" | "Organization" | "Config" | "Global";

/** The scope an import or export runs in. */
export type Scope = "User" | "Organization" | "Config" | "Global";

export type Silo = "Control" | "Region";

/**
 * How a field's value looks in an export and how it is stored.
 *
 * - `int`, `bigint`: integers. `float`: a JSON number. `bool`: true/false.
 * - `string`: a short string (varchar with `maxLength`). `text`: unbounded string.
 * - `datetime`: an ISO-8601 UTC string, written back as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
 * - `date`: `YYYY-MM-DD`.
 * - `json`: any JSON value, kept verbatim (stored as JSON text).
 * - `bitfield`: a decimal string in exports (`"flags": "1"`), an integer in the database.
 * - `uuid`: a UUID string. `ip`: an IPv4 or IPv6 address string. `decimal`: a decimal string.
 */
export type FieldType =
  | "int"
  | "bigint"
  | "float"
  | "bool"
  | "string"
  | "text"
  | "datetime"
  | "date"
  | "json"
  | "bitfield"
  | "uuid"
  | "ip"
  | "decimal";

/** The kinds of foreign key Sentry's dependency graph distinguishes. */
export type ForeignKeyKind =
  | "FlexibleForeignKey"
  | "HybridCloudForeignKey"
  | "ImplicitForeignKey"
  | "DefaultOneToOneField"
  | "DefaultForeignKey"
  | "OneToOneCascadeDeletes";

export interface ForeignKey {
  /** Target model name, e.g. `sentry.organization`. */
  model: string;
  kind: ForeignKeyKind;
}

export interface FieldDef {
  /** Name in an export's `fields` object. */
  name: string;
  /** Database column; defaults to `name`, or `name_id` for a Django foreign key. */
  column: string;
  type: FieldType;
  nullable: boolean;
  /** Longest allowed string, for `string` fields. */
  maxLength?: number;
  /**
   * Value used when an export omits the field (older Sentry versions). A function is called per
   * row. Fields without a default and without `nullable` are required.
   */
  default?: unknown | (() => unknown);
  /** Set when the field references another model. */
  fk?: ForeignKey;
  /**
   * For a foreign key: when its target was not imported, clear it and keep the row (instead of
   * dropping the row). Sentry does this for an organization member's inviter.
   */
  clearIfUnmapped?: boolean;
  /** The field is part of a case-insensitive unique index (Sentry's `Upper(...)` constraints). */
  caseInsensitive?: boolean;
}

/** Rows a conditional unique set applies to: `field` is (not) null, or `field` equals `equals`. */
export type UniqueCondition =
  | { field: string; isNull: boolean }
  | { field: string; equals: string | boolean };

/** One row as it travels through import and export: an export entry, field values as JSON. */
export interface Instance {
  model: string;
  pk: number;
  fields: Record<string, unknown>;
}

import type { ExportContext } from "../backup/export/context.js";
import type { ImportContext, PendingRow, WriteResult } from "../backup/import/context.js";

/** Sentry's ImportKind. */
export type ImportKind = "Inserted" | "Existing" | "Overwrite";

export interface ModelDef {
  /** `app.model`, lower case. */
  name: string;
  table: string;
  silos: Silo[];
  /** One scope, or the set of possible scopes when `instanceScope` decides per row. */
  scope: RelocationScope | RelocationScope[];
  /** Exported fields, in Sentry's declaration order (the order an export writes them in). */
  fields: FieldDef[];
  /** Unique field sets, by field name, each sorted, as in detailed.json. */
  uniques: string[][];
  /**
   * Sentry's conditional unique constraints: the unique set (its field names joined with `,`)
   * holds only for rows matching the condition, e.g. one pinned search per user.
   */
  uniqueConditions?: Record<string, UniqueCondition>;
  /** Models this one must follow in import order without a foreign key to them. */
  relocationDependencies?: string[];
  /** detailed.json's `dangling`. */
  dangling?: boolean;
  /** For models with several possible scopes: the scope of one row (after FK remapping). */
  instanceScope?: (fields: Record<string, unknown>) => RelocationScope;
  /**
   * Relocation hook run after the default foreign key remapping, before the write. It may change
   * `row.fields`; returning a string drops the row with that reason. It must not write.
   */
  normalize?: (row: PendingRow, ctx: ImportContext) => string | undefined | Promise<string | undefined>;
  /** Relocation hook replacing the default insert: writes the rows, one result per row. */
  write?: (rows: PendingRow[], ctx: ImportContext) => Promise<WriteResult[]>;
  /**
   * Relocation hook run once after the last batch of the export (before organization slugs are
   * reconciled), when rows of this model were written: it writes in bulk what Sentry's save
   * signals write with each row.
   */
  finish?: (ctx: ImportContext) => Promise<void>;
  /**
   * Sentry's OverwritableConfigMixin: a Config-scope row whose unique key exists is kept
   * (`Existing`) or, with `--overwrite-configs`, written over (`Overwrite`).
   */
  overwritableConfig?: boolean;
  /** A string primary key of at most this many characters instead of an integer id (nodestore_node). */
  stringId?: number;
  /**
   * Sentry's custom ordinal (`__relocation_custom_ordinal__`, `get_relocation_ordinal_fields`):
   * the fields that pair this model's rows when two exports are compared, for models whose rows
   * an import may merge into existing ones. `user`/`user_id` values stand for the username. A
   * function decides per row; null means "pair by pk order".
   */
  customOrdinal?: string[] | ((fields: Record<string, unknown>) => string[] | null);
  /**
   * Sentry's `query_for_relocation_export` override: in non-Global export scopes, the rows of this
   * model to keep, decided once per export from what has been exported so far.
   */
  exportFilter?: (ctx: ExportContext) => Promise<(row: Instance) => boolean>;
  /**
   * For `relo dev populate`: values for row `i` (0-based) where the generic, type-driven values
   * would break a rule of this model (a token format, a user's own address). Fields left out keep
   * their generic value.
   */
  populate?: (i: number, ctx: PopulateContext) => Record<string, unknown>;
}

/** What a model's `populate` hook can ask while generating rows. */
export interface PopulateContext {
  /** A deterministic random number in [0, 1). */
  random(): number;
  /** Lower-case hex of `n` characters. */
  hex(n: number): string;
  /** How many rows of `model` have been generated (their pks are 1..count). */
  count(model: string): number;
}
