/**
 * Notification actions (spike protection, audit log...) and the projects they apply to. Their
 * scope is decided per row: an action tied to an integration or a Sentry app is Global, any other
 * is Organization. src/sentry/notifications/models/notificationaction.py @ 0d964fe9 (the late-2024
 * `sentry` app label; the model later moved to a `notifications` app).
 */
import { notificationActionFields } from "./alerts.js";
import { f } from "./fields.js";
import type { ModelDef, RelocationScope } from "./types.js";

export const notificationAction: ModelDef = {
  name: "sentry.notificationaction",
  table: "sentry_notificationaction",
  silos: ["Region"],
  scope: ["Organization", "Global"],
  fields: [
    ...notificationActionFields(),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.int("trigger_type"),
  ],
  uniques: [],
};

export const notificationActionProject: ModelDef = {
  name: "sentry.notificationactionproject",
  table: "sentry_notificationactionproject",
  silos: ["Region"],
  scope: ["Organization", "Global"],
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("action", "sentry.notificationaction", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [],
};

export const notificationModels: ModelDef[] = [notificationAction, notificationActionProject];

// Relocation hooks.

/** An action that talks to an integration or a Sentry app only moves with a whole instance. */
export function notificationActionScope(fields: Record<string, unknown>): RelocationScope {
  const bound = (v: unknown) => v !== null && v !== undefined;
  return bound(fields.integration_id) || bound(fields.sentry_app_id) ? "Global" : "Organization";
}

notificationAction.instanceScope = notificationActionScope;

/**
 * A project link has its action's scope (Sentry reads the action). The action was imported just
 * before (it precedes its links in every export), so its stored columns decide.
 */
notificationActionProject.normalize = async (row, ctx) => {
  const action = await ctx.store.db
    .selectFrom(notificationAction.table)
    .select(["integration_id", "sentry_app_id"])
    .where("id", "=", row.fields.action as number)
    .executeTakeFirst();
  if (!action) return "its notification action was not imported";
  const scope = notificationActionScope(action);
  if (scope === "Global" && ctx.scope !== "Global") return "its notification action is Global scope";
  return undefined;
};
