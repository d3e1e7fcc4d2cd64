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

// A project link has its action's scope (Sentry's get_relocation_scope reads the action). No hook is
// needed: an action outside the scope is not imported or exported, and that drops its links.
