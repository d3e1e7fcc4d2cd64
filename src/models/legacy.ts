/**
 * Exports from older Sentry releases, brought forward to the schema relo defines before their rows
 * are imported. Sentry only strips what it deleted (DELETED_MODELS, DELETED_FIELDS); relo maps old
 * rows forward wherever the data still has a home:
 *
 * - `sentry.actor` rows (deleted in 2024) are read, then dropped. The actor an old issue alert
 *   (`rule.owner`) or metric alert (`alertrule.owner`) pointed at becomes its user or team owner
 *   (`owner_user_id`/`owner_team`, `user_id`/`team`), as Sentry's own migration did.
 * - Fields Sentry renamed when it turned user references into hybrid-cloud ids (2023) are renamed,
 *   and dashboard permissions' `is_creator_only_editable` becomes its opposite,
 *   `is_editable_by_everyone`.
 * - Fields and models without a home any more are dropped (docs/compatibility.md lists them).
 */
import { DELETED_FIELDS, DELETED_MODELS } from "./registry.js";

/** Old field name → current one, per model. Applied only when the current name is absent. */
export const RENAMED_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "sentry.organizationmember": { user: "user_id", inviter: "inviter_id" },
  "sentry.projectbookmark": { user: "user_id" },
  "sentry.recentsearch": { user: "user_id" },
  "sentry.savedsearch": { owner: "owner_id" },
  "sentry.dashboard": { created_by: "created_by_id" },
  "sentry.alertruleactivity": { user: "user_id" },
  "sentry.incidentactivity": { user: "user_id" },
  "sentry.ruleactivity": { user: "user_id" },
};

/**
 * Dashboard permissions first stored `is_creator_only_editable` (2024), then its opposite,
 * `is_editable_by_everyone`.
 */
function upgradeDashboardPermissions(fields: Record<string, unknown>): void {
  const old = fields.is_creator_only_editable;
  if (typeof old === "boolean" && !("is_editable_by_everyone" in fields))
    fields.is_editable_by_everyone = !old;
  delete fields.is_creator_only_editable;
}

/** What an old `sentry.actor` row stood for: a user or a team (old pks, remapped on import). */
interface Actor {
  team: unknown;
  userId: unknown;
}

/** Where an old `owner` actor reference goes in the current schema. */
const OWNER_FIELDS: Readonly<Record<string, { user: string; team: string }>> = {
  "sentry.rule": { user: "owner_user_id", team: "owner_team" },
  "sentry.alertrule": { user: "user_id", team: "team" },
};

const isSet = (v: unknown) => v !== null && v !== undefined;

/** One row of an export, as the upgrader sees it. */
export interface LegacyEntry {
  pk: number | null;
  fields: Record<string, unknown>;
}

/**
 * Returns the upgrade step of one import: called with every entry in export order, it rewrites
 * the entry's fields in place and returns false for an entry that must not be imported.
 */
export function legacyUpgrader(): (model: string, entry: LegacyEntry) => boolean {
  const actors = new Map<number, Actor>();
  return (model, entry) => {
    const fields = entry.fields;
    if (model === "sentry.actor") {
      if (entry.pk !== null) actors.set(entry.pk, { team: fields.team, userId: fields.user_id });
    }
    if (DELETED_MODELS.has(model)) return false;
    const renamed = RENAMED_FIELDS[model];
    if (renamed) {
      for (const [old, current] of Object.entries(renamed)) {
        if (old in fields && !(current in fields)) fields[current] = fields[old];
        delete fields[old];
      }
    }
    const owner = OWNER_FIELDS[model];
    if (owner && isSet(fields.owner) && !isSet(fields[owner.user]) && !isSet(fields[owner.team])) {
      // An actor with neither a user nor a team (or one not in the export) owns nothing.
      const actor = actors.get(fields.owner as number);
      if (actor && isSet(actor.userId)) fields[owner.user] = actor.userId;
      else if (actor && isSet(actor.team)) fields[owner.team] = actor.team;
    }
    if (model === "sentry.dashboardpermissions") upgradeDashboardPermissions(fields);
    const deleted = DELETED_FIELDS[model];
    if (deleted) for (const name of deleted) delete fields[name];
    return true;
  };
}
