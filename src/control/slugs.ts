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
import type { PrimaryKeyMap } from "../backup/pkmap.js";
import { organizationSlugReservation, ReservationType } from "../models/internal.js";
import type { Store } from "../store/types.js";
import { insertFields } from "../backup/import/write.js";
import { RESERVED_ORGANIZATION_SLUGS } from "./reserved.js";
import { slugifyInstance } from "./unique.js";

/** Sentry's name for the only region of a single-process (monolith) install. */
export const MONOLITH_REGION = "--monolith--";
export const ORG_SLUG_MAX_LENGTH = 30;

/** True when `slug` is held (case-insensitively) by a reservation or by another organization. */
async function slugTaken(store: Store, slug: string, orgId: number): Promise<boolean> {
  const lower = slug.toLowerCase();
  const reserved = await store.db
    .selectFrom("sentry_organizationslugreservation")
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

export async function reserveOrgSlug(store: Store, orgId: number, requested: string, now: string): Promise<string> {
  // A retried import replays organizations that already hold their reservation.
  const held = await store.db
    .selectFrom("sentry_organizationslugreservation")
    .select("slug")
    .where("organization_id", "=", orgId)
    .where("reservation_type", "=", ReservationType.PRIMARY)
    .executeTakeFirst();
  if (held) return held.slug as string;
  const base = requested.replace(/_/g, "-").replace(/^-+|-+$/g, "");
  const slug = await slugifyInstance(base, {
    maxLength: ORG_SLUG_MAX_LENGTH,
    reserved: RESERVED_ORGANIZATION_SLUGS,
    taken: (candidate) => slugTaken(store, candidate, orgId),
  });
  await insertFields(store, organizationSlugReservation, [
    {
      slug,
      organization_id: orgId,
      user_id: -1,
      region_name: MONOLITH_REGION,
      reservation_type: ReservationType.PRIMARY,
      date_added: now,
    },
  ]);
  if (slug !== requested) {
    await store.db.updateTable("sentry_organization").set({ slug }).where("id", "=", orgId).execute();
  }
  return slug;
}

/** Reserves slugs for every organization this import inserted; records final slugs in the map. */
export async function reconcileOrgSlugs(store: Store, pkMap: PrimaryKeyMap, now: string): Promise<void> {
  for (const [oldPk, entry] of pkMap.entries("sentry.organization")) {
    if (entry.kind !== "Inserted") continue;
    const slug = await reserveOrgSlug(store, entry.pk, entry.slug ?? "", now);
    pkMap.insert("sentry.organization", oldPk, entry.pk, entry.kind, slug);
  }
}
