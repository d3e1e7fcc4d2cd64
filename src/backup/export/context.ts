/**
 * What an export knows while it runs: the store, the scope, the filter, and the pks of every row
 * exported so far (rows may only point at rows exported before them).
 */
import type { Scope } from "../../models/types.js";
import type { Store } from "../../store/types.js";
import type { PkSet } from "../pkset.js";

/** Sentry's export Filter: rows of `model` whose `field` is one of `values`. */
export interface ExportFilter {
  model: "sentry.organization" | "sentry.user";
  field: "slug" | "username" | "pk";
  values: ReadonlySet<string | number>;
}

export interface ExportOptions {
  scope: Scope;
  /** `--filter-org-slugs` (Organization scope) or `--filter-usernames` (User scope). */
  filterBy?: ExportFilter | null;
  /**
   * Spaces per nesting level (`--indent`, default 2); null writes compact JSON with raw UTF-8, the
   * payload format of an encrypted export.
   */
  indent?: number | null;
  /** Called after each chunk of rows, with the number of rows written so far (all models). */
  onRows?: (rows: number) => void;
}

export interface ExportContext {
  readonly store: Store;
  readonly scope: Scope;
  /** Pks of the rows of `model` exported so far. */
  exported(model: string): PkSet;
}

/** Rows written per model, in export order. */
export interface ExportResult {
  models: { model: string; rows: number }[];
  rows: number;
  bytes: number;
}
