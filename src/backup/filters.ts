/**
 * Builds the row filters of a filtered import or export from the user's selection: organizations
 * by slug, or users by username. Other models are then filtered transitively, through their
 * foreign keys. An organization selection also selects the users who are members of the selected
 * organizations, and either selection admits the `sentry.email` rows of the selected users.
 */
import { legacyUpgrader } from "../models/legacy.js";
import { ReloError } from "./errors.js";
import { parseEntry } from "./import/batches.js";
import type { Filter } from "./import/context.js";
import type { RawEntry } from "./reader.js";

export function orgSlugFilter(slugs: Iterable<string>): Filter {
  return { model: "sentry.organization", field: "slug", values: new Set(slugs) };
}

export function usernameFilter(usernames: Iterable<string>): Filter {
  return { model: "sentry.user", field: "username", values: new Set(usernames) };
}

interface ScannedUser {
  username: unknown;
  email: unknown;
  emails: Set<string>;
}

interface Scan {
  users: Map<number, ScannedUser>;
  orgPks: Set<number>;
  /** user pk per member row: [organization pk, user pk]. */
  members: [number, number][];
}

async function scan(entries: AsyncIterable<RawEntry>, orgFilter: Filter | null): Promise<Scan> {
  const out: Scan = { users: new Map(), orgPks: new Set(), members: [] };
  // Older exports name some fields differently (organizationmember.user); read them as the import will.
  const upgrade = legacyUpgrader();
  for await (const raw of entries) {
    const { model, entry } = parseEntry(raw);
    if (!upgrade(model, entry)) continue;
    const { fields, pk } = entry;
    if (model === "sentry.user" && pk !== null) {
      out.users.set(pk, { username: fields.username, email: fields.email, emails: new Set() });
    } else if (model === "sentry.useremail") {
      const user = out.users.get(fields.user as number);
      if (user && typeof fields.email === "string") user.emails.add(fields.email);
    } else if (orgFilter && model === "sentry.organization" && pk !== null) {
      if (orgFilter.values.has(fields.slug as string)) out.orgPks.add(pk);
    } else if (orgFilter && model === "sentry.organizationmember") {
      if (fields.user_id !== null && fields.user_id !== undefined) {
        out.members.push([fields.organization as number, fields.user_id as number]);
      }
    }
  }
  return out;
}

/**
 * The filters for a selection. `entries` is a fresh read of the whole export: the members of an
 * organization and the emails of a user are only known after reading it.
 */
export async function buildFilters(filterBy: Filter, entries: AsyncIterable<RawEntry>): Promise<Filter[]> {
  if (filterBy.model !== "sentry.organization" && filterBy.model !== "sentry.user") {
    throw new ReloError("Filter arguments must only apply to `Organization` or `User` models");
  }
  const isOrg = filterBy.model === "sentry.organization";
  const found = await scan(entries, isOrg ? filterBy : null);
  const selected = new Set<number>();
  if (isOrg) {
    for (const [org, user] of found.members) if (found.orgPks.has(org)) selected.add(user);
  } else {
    for (const [pk, u] of found.users) if (filterBy.values.has(u.username as string)) selected.add(pk);
  }
  const emails = new Set<string>();
  for (const pk of selected) {
    const u = found.users.get(pk);
    if (!u) continue;
    if (typeof u.email === "string") emails.add(u.email);
    for (const e of u.emails) emails.add(e);
  }
  const filters: Filter[] = [filterBy, { model: "sentry.email", field: "email", values: emails }];
  if (isOrg) filters.push({ model: "sentry.user", field: "pk", values: selected });
  return filters;
}
