/**
 * Organization slug reconciliation (Sentry's `bulk_create_organization_slugs`), run after the
 * write phase of an import: every imported organization gets a slug reservation, unique among
 * all reservations and organizations, and its slug is brought in line with that reservation.
 *
 * Sentry reserves a temporary rename alias and lets an outbox swap it into the primary
 * reservation; relo runs in one process, so it writes the end state directly: one PRIMARY
 * reservation per imported organization, owned by user -1.
 */
import { sql } from "kysely";
import { idsByValue, insertFields } from "../backup/import/write.js";
import type { PrimaryKeyMap } from "../backup/pkmap.js";
import { organizationSlugReservation, ReservationType } from "../models/internal.js";
import type { Store } from "../store/types.js";
import { RESERVED_ORGANIZATION_SLUGS } from "./reserved.js";
import { slugifyInstance } from "./unique.js";

/** Sentry's name for the only region of a single-process (monolith) install. */
export const MONOLITH_REGION = "--monolith--";
export const ORG_SLUG_MAX_LENGTH = 30;

/** True when `slug` is held (case-insensitively) by a reservation or by another organization. */
async function slugTaken(store: Store, slug: string, orgId: number): Promise<boolean> {
  const lower = slug.toLowerCase();
  const reserved = await store.db
    .selectFrom(organizationSlugReservation.table)
    .select("id")
    .where(sql`lower(slug)`, "=", lower)
    .executeTakeFirst();
  if (reserved) return true;
  const org = await store.db
    .selectFrom("sentry_organization")
    .select("id")
    .where(sql`lower(slug)`, "=", lower)
    .where("id", "!=", orgId)
    .executeTakeFirst();
  return org !== undefined;
}

/** Sentry's slug base for a reservation: `_` as `-`, no outer `-`. */
function reservationBase(requested: string): string {
  return requested.replace(/_/g, "-").replace(/^-+|-+$/g, "");
}

interface Held {
  orgId: number;
  slug: string;
}

/**
 * Reserves slugs for a group of organizations: what is already known about their requested
 * slugs is read in three queries, and only a slug that must change costs queries of its own.
 */
async function reserveGroup(
  store: Store,
  orgs: { orgId: number; requested: string }[],
  now: string,
): Promise<Held[]> {
  const ids = orgs.map((o) => o.orgId);
  const held = await store.db
    .selectFrom(organizationSlugReservation.table)
    .select(["organization_id", "slug"])
    .where("organization_id", "in", ids)
    .where("reservation_type", "=", ReservationType.PRIMARY)
    .execute();
  const heldBy = new Map(held.map((r) => [Number(r.organization_id), r.slug as string]));
  const bases = orgs.map((o) => reservationBase(o.requested).toLowerCase());
  const reserved = await idsByValue(store, organizationSlugReservation, "slug", bases, { lower: true });
  const orgRows = await store.db
    .selectFrom("sentry_organization")
    .select(["id", sql<string>`lower(slug)`.as("s")])
    .where(sql`lower(slug)`, "in", bases.length ? bases : [""])
    .execute();
  const usedBy = new Map<string, number[]>();
  for (const r of orgRows) usedBy.set(r.s, [...(usedBy.get(r.s) ?? []), Number(r.id)]);
  const inGroup = new Set<string>();
  const out: Held[] = [];
  const inserts: Record<string, unknown>[] = [];
  for (const [i, { orgId, requested }] of orgs.entries()) {
    const already = heldBy.get(orgId);
    if (already !== undefined) {
      out.push({ orgId, slug: already });
      continue;
    }
    const slug = await slugifyInstance(reservationBase(requested), {
      maxLength: ORG_SLUG_MAX_LENGTH,
      reserved: RESERVED_ORGANIZATION_SLUGS,
      taken: async (candidate) => {
        const lower = candidate.toLowerCase();
        if (inGroup.has(lower)) return true;
        if (lower !== bases[i]) return slugTaken(store, candidate, orgId);
        return reserved.has(lower) || (usedBy.get(lower) ?? []).some((id) => id !== orgId);
      },
    });
    inGroup.add(slug.toLowerCase());
    inserts.push({
      slug,
      organization_id: orgId,
      user_id: -1,
      region_name: MONOLITH_REGION,
      reservation_type: ReservationType.PRIMARY,
      date_added: now,
    });
    if (slug !== requested) {
      await store.db.updateTable("sentry_organization").set({ slug }).where("id", "=", orgId).execute();
    }
    out.push({ orgId, slug });
  }
  await insertFields(store, organizationSlugReservation, inserts);
  return out;
}

const GROUP = 1000;

/** Reserves slugs for every organization this import inserted; records final slugs in the map. */
export async function reconcileOrgSlugs(store: Store, pkMap: PrimaryKeyMap, now: string): Promise<void> {
  const inserted = pkMap.entries("sentry.organization").filter(([, e]) => e.kind === "Inserted");
  for (let i = 0; i < inserted.length; i += GROUP) {
    const group = inserted.slice(i, i + GROUP);
    const held = await reserveGroup(
      store,
      group.map(([, e]) => ({ orgId: e.pk, requested: e.slug ?? "" })),
      now,
    );
    for (const [j, [oldPk, e]] of group.entries())
      pkMap.insert("sentry.organization", oldPk, e.pk, e.kind, held[j].slug);
  }
}
