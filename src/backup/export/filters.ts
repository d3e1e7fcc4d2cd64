/**
 * The row filters an export applies, as Sentry derives them from the scope and the CLI flags:
 * organizations by slug (and then users by membership), users by username, and in Config scope
 * only the instance's administrators.
 */
import { sql } from "kysely";
import { registry } from "../../models/registry.js";
import type { Store } from "../../store/types.js";
import type { ExportFilter, ExportOptions } from "./context.js";

/** Filters by model name. */
export type Filters = Map<string, ExportFilter>;

export async function resolveFilters(store: Store, opts: ExportOptions): Promise<Filters> {
  const filters: Filters = new Map();
  const by = opts.filterBy;
  if (by) filters.set(by.model, by);
  if (by?.model === "sentry.organization") {
    filters.set("sentry.user", { model: "sentry.user", field: "pk", values: await memberUserIds(store, by) });
  }
  if (opts.scope === "Config") {
    filters.set("sentry.user", { model: "sentry.user", field: "pk", values: await privilegedUserIds(store) });
  }
  return filters;
}

/** Users who are members of the selected organizations; pending invites have no user. */
async function memberUserIds(store: Store, orgs: ExportFilter): Promise<Set<number>> {
  const slugs = [...orgs.values].map(String);
  if (slugs.length === 0) return new Set();
  const rows = await store.db
    .selectFrom(`${table("sentry.organizationmember")} as m`)
    .innerJoin(`${table("sentry.organization")} as o`, "o.id", "m.organization_id")
    .where("o.slug", "in", slugs)
    .where("m.user_id", "is not", null)
    .select("m.user_id")
    .execute();
  return new Set(rows.map((r) => Number(r.user_id)));
}

/**
 * Sentry's "globally privileged" users: staff, superusers, and anyone holding a UserPermission or
 * a UserRole.
 */
async function privilegedUserIds(store: Store): Promise<Set<number>> {
  const ids = new Set<number>();
  const admins = await sql<{ id: number }>`
    SELECT "id" FROM ${sql.table(table("sentry.user"))} WHERE "is_staff" OR "is_superuser"`.execute(store.db);
  for (const r of admins.rows) ids.add(Number(r.id));
  for (const model of ["sentry.userpermission", "sentry.userroleuser"]) {
    const rows = await store.db.selectFrom(table(model)).select("user_id").execute();
    for (const r of rows) ids.add(Number(r.user_id));
  }
  return ids;
}

function table(model: string): string {
  return registry.get(model)!.table;
}
