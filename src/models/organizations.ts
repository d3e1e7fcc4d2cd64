/**
 * Organization-side models of Sentry's region silo (plus the control-silo OrgAuthToken). Field
 * lists follow the late-2024 schema that fixtures/backup/model_dependencies/detailed.json
 * (3f5fd083) describes; fields newer than the 2023 fresh-install fixture carry defaults so that
 * older exports still import.
 */
import { createHash, randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { ImportContext, PendingRow } from "../backup/import/context.js";
import { idsByValue, insertAll } from "../backup/import/write.js";
import { RESERVED_ORGANIZATION_SLUGS } from "../control/reserved.js";
import { ORG_SLUG_MAX_LENGTH } from "../control/slugs.js";
import { slugifyInstance } from "../control/unique.js";
import { defaultFields, f } from "./fields.js";
import { decodeOptionValue } from "./hooks.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// src/sentry/models/organization.py (late-2024 snowflake/ReplicatedRegionModel revision, commit not shown by the index); SentryOrgSlugField is a plain SlugField, hence 50
export const organization: ModelDef = {
  name: "sentry.organization",
  table: "sentry_organization",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.string("name", 64),
    f.string("slug", 50),
    f.int("status", { default: 0 }),
    f.datetime("date_added", { default: now }),
    f.string("default_role", 32, { default: "member" }),
    f.bool("is_test", { default: false }),
    f.bitfield("flags", { default: "1" }),
  ],
  uniques: [["slug"]],
};

// src/sentry/models/options/organization_option.py (region_silo_model revision); value is a PickledObjectField
export const organizationOption: ModelDef = {
  name: "sentry.organizationoption",
  table: "sentry_organizationoptions",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.string("key", 64),
    f.json("value"),
  ],
  uniques: [["key", "organization"]],
};

// src/sentry/models/organizationmember.py as mirrored by fork renuac85/sentry @ e825d0e9 (2024); the index holds no late-2024 getsentry copy
export const organizationMember: ModelDef = {
  name: "sentry.organizationmember",
  table: "sentry_organizationmember",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.string("email", 75, { nullable: true }),
    f.string("role", 32, { default: "member" }),
    f.bitfield("flags", { default: "0" }),
    f.string("token", 64, { nullable: true }),
    f.datetime("date_added", { default: now }),
    f.datetime("token_expires_at", { nullable: true, default: null }),
    f.bool("has_global_access", { default: true }),
    // An inviter who is not imported is forgotten; the membership stays.
    f.fk("inviter_id", "sentry.user", {
      nullable: true,
      kind: "HybridCloudForeignKey",
      clearIfUnmapped: true,
    }),
    f.int("invite_status", { nullable: true, default: 0 }),
    f.int("type", { default: 50 }),
    f.bool("user_is_active", { default: true }),
    f.string("user_email", 75, { nullable: true }),
  ],
  uniques: [["email", "organization"], ["organization", "user_id"], ["token"]],
};

// src/sentry/models/team.py (late-2024 snowflake/ReplicatedRegionModel revision); actor and org_role are already gone, slug is a plain SlugField (50)
export const team: ModelDef = {
  name: "sentry.team",
  table: "sentry_team",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.string("slug", 50),
    f.string("name", 64),
    f.int("status", { default: 0 }),
    f.bool("idp_provisioned", { default: false }),
    f.datetime("date_added", { nullable: true, default: now }),
  ],
  uniques: [["organization", "slug"]],
};

// src/sentry/models/organizationmemberteam.py (hybridcloud.outbox revision); the primary key is an explicit BoundedAutoField, so it is not exported
export const organizationMemberTeam: ModelDef = {
  name: "sentry.organizationmemberteam",
  table: "sentry_organizationmember_teams",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("team", "sentry.team", { kind: "FlexibleForeignKey" }),
    f.fk("organizationmember", "sentry.organizationmember", { kind: "FlexibleForeignKey" }),
    f.bool("is_active", { default: true }),
    f.string("role", 32, { nullable: true }),
  ],
  uniques: [["organizationmember", "team"]],
};

// src/sentry/models/orgauthtoken.py @ eccd80be; Sentry's legacy ArrayField forces null=True on scope_list
export const orgAuthToken: ModelDef = {
  name: "sentry.orgauthtoken",
  table: "sentry_orgauthtoken",
  silos: ["Control"],
  scope: "Organization",
  fields: [
    f.fk("organization_id", "sentry.organization", { kind: "HybridCloudForeignKey" }),
    f.text("token_hashed"),
    f.string("token_last_characters", 4, { nullable: true }),
    f.string("name", 255),
    f.json("scope_list", { nullable: true }),
    f.fk("created_by", "sentry.user", { nullable: true, kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
    f.datetime("date_last_used", { nullable: true }),
    f.fk("project_last_used_id", "sentry.project", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.datetime("date_deactivated", { nullable: true }),
  ],
  uniques: [["token_hashed"]],
};

// src/sentry/models/organizationaccessrequest.py: a member asking to join a team
export const organizationAccessRequest: ModelDef = {
  name: "sentry.organizationaccessrequest",
  table: "sentry_organizationaccessrequest",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("team", "sentry.team", { kind: "FlexibleForeignKey" }),
    f.fk("member", "sentry.organizationmember", { kind: "FlexibleForeignKey" }),
    f.fk("requester_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
  ],
  uniques: [["member", "team"]],
};

// src/sentry/data_secrecy/models/datasecrecywaiver.py (DefaultFieldsModelExisting, added in 2024);
// zendesk_tickets is a Django postgres ArrayField (a JSON list string in exports)
export const dataSecrecyWaiver: ModelDef = {
  name: "sentry.datasecrecywaiver",
  table: "sentry_datasecrecywaiver",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.datetime("access_start", { default: now }),
    f.datetime("access_end", { default: now }),
    f.json("zendesk_tickets", { default: "[]" }),
  ],
  uniques: [["organization"]],
};

export const organizationModels: ModelDef[] = [
  organization,
  organizationOption,
  organizationMember,
  team,
  organizationMemberTeam,
  orgAuthToken,
  organizationAccessRequest,
  dataSecrecyWaiver,
];

// Relocation hooks.

/** Sentry's OrganizationStatus.RELOCATION_PENDING_APPROVAL. */
export const RELOCATION_PENDING_APPROVAL = 3;

organization.normalize = (row, ctx) => {
  if (ctx.flags.hideOrganizations) row.fields.status = RELOCATION_PENDING_APPROVAL;
  return undefined;
};

async function orgSlugTaken(ctx: ImportContext, candidate: string): Promise<boolean> {
  const hit = await ctx.store.db
    .selectFrom(organization.table)
    .select("id")
    .where(sql`lower(slug)`, "=", candidate.toLowerCase())
    .executeTakeFirst();
  return hit !== undefined;
}

/** The slug base Sentry's Organization.save starts from: lower case, `_` as `-`, no outer `-`. */
function slugBase(o: Record<string, unknown>): string {
  return String(o.slug || o.name)
    .toLowerCase()
    .replace(/_/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * A new organization's slug is made unique among organizations (Sentry's Organization.save):
 * reserved slugs become random, colliding and all-digit ones get a suffix, long ones are cut.
 * Organizations are never merged.
 */
organization.write = async (rows, ctx) => {
  const bases = rows.map((r) =>
    slugBase(r.fields)
      .slice(0, ORG_SLUG_MAX_LENGTH)
      .replace(/^-+|-+$/g, ""),
  );
  const known = await idsByValue(ctx.store, organization, "slug", bases, { lower: true });
  const inBatch = new Set<string>();
  for (const [i, row] of rows.entries()) {
    row.fields.slug = await slugifyInstance(slugBase(row.fields), {
      maxLength: ORG_SLUG_MAX_LENGTH,
      reserved: RESERVED_ORGANIZATION_SLUGS,
      taken: async (c) => {
        const lower = c.toLowerCase();
        if (inBatch.has(lower)) return true;
        return lower === bases[i] ? known.has(lower) : orgSlugTaken(ctx, c);
      },
    });
    inBatch.add(String(row.fields.slug).toLowerCase());
  }
  return insertAll(rows, ctx);
};

/** An invite token that exists here already is dropped from the imported invite. */
organizationMember.write = async (rows, ctx) => {
  const taken = await idsByValue(
    ctx.store,
    organizationMember,
    "token",
    rows.map((r) => r.fields.token),
  );
  for (const row of rows) {
    if (row.fields.token !== null && taken.has(row.fields.token)) {
      row.fields.token = null;
      row.fields.token_expires_at = null;
    }
  }
  return insertAll(rows, ctx);
};

/** Python's json.dumps spacing, so a token's payload reads as Sentry's. */
function pythonJson(payload: Record<string, unknown>): string {
  return `{${Object.entries(payload)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(", ")}}`;
}

/** Sentry's org auth token: `sntrys_` + base64(JSON claims) + `_` + base64(32 random bytes). */
export function mintOrgAuthToken(urlPrefix: string, orgSlug: string, now: string): string {
  const claims = { iat: Date.parse(now) / 1000, url: urlPrefix, region_url: urlPrefix, org: orgSlug };
  const payload = Buffer.from(pythonJson(claims), "ascii").toString("base64");
  const secret = randomBytes(32).toString("base64").replace(/=+$/, "");
  return `sntrys_${payload}_${secret}`;
}

/**
 * A token whose hash is empty or exists here already is replaced by a new one, minted for the
 * organization's final slug; without `system.url-prefix` no token can be minted and the row is
 * dropped (as in Sentry).
 */
orgAuthToken.normalize = async (row: PendingRow, ctx: ImportContext) => {
  const hashed = row.fields.token_hashed;
  if (hashed) {
    const hit = await ctx.store.db
      .selectFrom(orgAuthToken.table)
      .select("id")
      .where("token_hashed", "=", hashed)
      .executeTakeFirst();
    if (!hit) return undefined;
  }
  const slug = ctx.pkMap.getSlug("sentry.organization", row.source.organization_id as number);
  if (!slug) return "its organization has no slug to mint a new token for";
  const urlPrefix = decodeOptionValue(await ctx.option("system.url-prefix"));
  if (typeof urlPrefix !== "string" || urlPrefix === "") {
    return "its token had to be regenerated, which needs the system.url-prefix option";
  }
  const token = mintOrgAuthToken(urlPrefix, slug, ctx.now);
  row.fields.token_hashed = createHash("sha256").update(token).digest("hex");
  row.fields.token_last_characters = token.slice(-4);
  return undefined;
};
