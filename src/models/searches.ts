/**
 * Saved and recent issue searches and issue-stream views. Late-2024 schema (detailed.json
 * 3f5fd083).
 */
import { defaultFields, f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// src/sentry/models/savedsearch.py (renuac85 @ e825d0e9). Both unique sets are conditional in
// Sentry: global searches have unique names, and each user has one pinned search per type.
export const savedSearch: ModelDef = {
  name: "sentry.savedsearch",
  table: "sentry_savedsearch",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization", "sentry.organization", { nullable: true, kind: "FlexibleForeignKey" }),
    f.int("type", { nullable: true, default: 0 }),
    f.string("name", 128),
    f.text("query"),
    f.string("sort", 16, { nullable: true, default: "date" }),
    f.datetime("date_added", { default: now }),
    f.bool("is_global", { nullable: true, default: false }),
    f.fk("owner_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.string("visibility", 16, { default: "owner" }),
  ],
  uniques: [
    ["is_global", "name"],
    ["organization", "owner_id", "type"],
  ],
  uniqueConditions: {
    "is_global,name": { field: "is_global", equals: true },
    "organization,owner_id,type": { field: "visibility", equals: "owner_pinned" },
  },
};

// src/sentry/models/recentsearch.py (renuac85 @ e825d0e9)
export const recentSearch: ModelDef = {
  name: "sentry.recentsearch",
  table: "sentry_recentsearch",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { kind: "HybridCloudForeignKey" }),
    f.int("type"),
    f.text("query"),
    f.string("query_hash", 32),
    f.datetime("last_seen", { default: now }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["organization", "query_hash", "type", "user_id"]],
};

// src/sentry/models/groupsearchview.py (late-2024: DefaultFieldsModel, added in 2024). Sentry
// names its unique set by column (`organization_id`); relo names it by field.
export const groupSearchView: ModelDef = {
  name: "sentry.groupsearchview",
  table: "sentry_groupsearchview",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.text("name"),
    f.fk("user_id", "sentry.user", { kind: "HybridCloudForeignKey" }),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.text("query"),
    f.string("query_sort", 16, { nullable: true, default: "date" }),
    f.int("position"),
  ],
  uniques: [["organization", "position", "user_id"]],
};

export const searchModels: ModelDef[] = [savedSearch, recentSearch, groupSearchView];

// Relocation hooks.

/** A global saved search belongs to the whole instance: only a Global import brings it along. */
savedSearch.normalize = (row, ctx) => {
  if (row.fields.is_global && ctx.scope !== "Global")
    return "a global search is only imported in Global scope";
  return undefined;
};
