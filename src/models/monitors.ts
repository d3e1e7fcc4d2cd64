/**
 * Cron monitors. src/sentry/monitors/models.py (renuac85 @ e825d0e9; the late-2024 model has the
 * same exported columns). Check-ins, environments and locations are Excluded.
 */
import { randomUUID } from "node:crypto";
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

export const monitor: ModelDef = {
  name: "sentry.monitor",
  table: "sentry_monitor",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.datetime("date_added", { default: now }),
    f.fk("organization_id", "sentry.organization", { kind: "ImplicitForeignKey" }),
    f.fk("project_id", "sentry.project", { kind: "ImplicitForeignKey" }),
    f.int("status", { default: 0 }),
    f.uuid("guid", { default: () => randomUUID() }),
    // SentrySlugField (max 50)
    f.string("slug", 50),
    f.bool("is_muted", { default: false }),
    f.string("name", 128),
    f.int("type", { default: 0 }),
    f.fk("owner_user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    // A plain team id in Sentry (not in its dependency graph), so an import keeps it as exported.
    f.bigint("owner_team_id", { nullable: true }),
    f.json("config", { default: () => ({}) }),
  ],
  uniques: [["guid"], ["project_id", "slug"]],
};

export const monitorModels: ModelDef[] = [monitor];

// Relocation hooks.

/**
 * Every imported monitor gets a new GUID (Sentry's normalize_before_relocation_import), so it can
 * never clash with a monitor of the instance it moves to. Slugs need no care: they are unique per
 * project, and an imported project is always new.
 */
monitor.normalize = (row) => {
  row.fields.guid = randomUUID();
  return undefined;
};
