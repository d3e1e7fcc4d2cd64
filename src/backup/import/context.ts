/**
 * The types the import stages and the models' relocation hooks share.
 */
import type { ImportKind, ModelDef, Scope } from "../../models/types.js";
import type { Store } from "../../store/types.js";
import type { PrimaryKeyMap } from "../pkmap.js";
import type { PkSet } from "../pkset.js";

/** Sentry's ImportFlags. */
export interface ImportFlags {
  /** On a username collision, reuse the existing user instead of creating a renamed one. */
  mergeUsers: boolean;
  /** On a Config-scope unique collision, overwrite the existing row instead of keeping it. */
  overwriteConfigs: boolean;
  /** Shared by every import chunk of one import; a retry with the same id skips finished batches. */
  importUuid: string;
  /** Imported organizations get status RELOCATION_PENDING_APPROVAL. */
  hideOrganizations: boolean;
}

/** An allow-list: a row of `model` passes when its `field` value is in `values`. */
export interface Filter {
  model: string;
  field: string;
  values: Set<string | number>;
}

/** One row on its way into the database. */
export interface PendingRow {
  /** 1-based position among the rows of its model in the export. */
  ordinal: number;
  /** The pk in the export. */
  oldPk: number;
  /** Set by a hook to insert the row with this pk instead of a fresh one. */
  pk?: number;
  /** Field values in export form; foreign keys already point at new pks. */
  fields: Record<string, unknown>;
  /**
   * The fields as read, before any normalization (foreign keys still hold old pks; a field the
   * export left out is missing, not defaulted). Read-only.
   */
  source: Record<string, unknown>;
}

/** What writing one row did: its pk here and how it got there. Null: the row was skipped. */
export type WriteResult = { pk: number; kind: ImportKind } | null;

export interface ImportContext {
  store: Store;
  scope: Scope;
  flags: ImportFlags;
  pkMap: PrimaryKeyMap;
  /** The model of the batch being written. */
  model: ModelDef;
  /** The import's clock: one instant for every "now" an import writes. */
  now: string;
  /** Looks up an instance option (`sentry.option` / `sentry.controloption`) by key. */
  option(key: string): Promise<unknown>;
  /**
   * The new pks of the rows this import inserted so far, per model (rows written over existing
   * ones, and batches an earlier run of the same import wrote, are not in it).
   */
  inserted(model: string): PkSet;
}
