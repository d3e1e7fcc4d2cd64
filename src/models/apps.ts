/**
 * OAuth applications and API tokens. Late-2024 schema (detailed.json 3f5fd083): ApiApplication
 * already has `scopes` (migration 0757) but not yet `requires_org_level_access`/`version` (2025);
 * ApiToken already has the hashed/typed/71-char token columns and `scoping_organization_id`.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ImportContext, PendingRow } from "../backup/import/context.js";
import { insertFields } from "../backup/import/write.js";
import { apiScopeFields, f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

/** Sentry's generate_token for applications and untyped tokens: 32 random bytes as hex. */
const hexToken = () => randomBytes(32).toString("hex");

/** ApiToken's default_expiration: 30 days from now. */
const inThirtyDays = () => new Date(Date.now() + 30 * 24 * 60 * 60 * 1000).toISOString();

// src/sentry/models/apiapplication.py @ 03b86816, without the two 2025 columns (URLField = varchar(200))
export const apiApplication: ModelDef = {
  name: "sentry.apiapplication",
  table: "sentry_apiapplication",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.string("client_id", 64, { default: hexToken }),
    f.text("client_secret", { default: hexToken }),
    f.fk("owner", "sentry.user", { nullable: true, kind: "FlexibleForeignKey" }),
    // Sentry defaults this to a random petname; not reproduced here
    f.string("name", 64),
    f.int("status", { default: 0 }),
    f.text("allowed_origins", { nullable: true }),
    f.text("redirect_uris"),
    f.string("homepage_url", 200, { nullable: true }),
    f.string("privacy_url", 200, { nullable: true }),
    f.string("terms_url", 200, { nullable: true }),
    f.datetime("date_added", { default: now }),
    f.json("scopes", { default: () => [] }),
  ],
  uniques: [["client_id"]],
};

// src/sentry/models/apitoken.py (late-2024 version) + apiscopes.py: HasApiScopes' fields are created first
export const apiToken: ModelDef = {
  name: "sentry.apitoken",
  table: "sentry_apitoken",
  silos: ["Control"],
  scope: ["Config", "Global"],
  fields: [
    f.bitfield("scopes"),
    f.json("scope_list", { nullable: true }),
    f.fk("application", "sentry.apiapplication", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.fk("scoping_organization_id", "sentry.organization", {
      nullable: true,
      kind: "HybridCloudForeignKey",
    }),
    f.string("name", 255, { nullable: true }),
    f.string("token", 71, { default: hexToken }),
    f.string("hashed_token", 128, { nullable: true }),
    f.string("token_type", 7, { nullable: true }),
    f.string("token_last_characters", 4, { nullable: true }),
    f.string("refresh_token", 71, { nullable: true, default: hexToken }),
    f.string("hashed_refresh_token", 128, { nullable: true }),
    f.datetime("expires_at", { nullable: true, default: inThirtyDays }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["hashed_refresh_token"], ["hashed_token"], ["refresh_token"], ["token"]],
};

// src/sentry/models/apiauthorization.py (late 2024: HasApiScopes' fields first; organization_id
// added in 2024 for organization-scoped authorizations, with conditional unique sets)
export const apiAuthorization: ModelDef = {
  name: "sentry.apiauthorization",
  table: "sentry_apiauthorization",
  silos: ["Control"],
  scope: ["Config", "Global"],
  fields: [
    ...apiScopeFields(),
    f.fk("application", "sentry.apiapplication", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
    f.fk("organization_id", "sentry.organization", { nullable: true, kind: "HybridCloudForeignKey" }),
  ],
  uniques: [
    ["application", "organization_id", "user"],
    ["application", "user"],
  ],
  // A user authorizes an application once per organization, or once for all of them.
  uniqueConditions: {
    "application,organization_id,user": { field: "organization_id", isNull: false },
    "application,user": { field: "organization_id", isNull: true },
  },
};

/** ApiGrant's default expiry: ten minutes from now. */
const inTenMinutes = () => new Date(Date.now() + 10 * 60 * 1000).toISOString();

// src/sentry/models/apigrant.py (renuac85 @ 1a33c021 + organization_id, 2024)
export const apiGrant: ModelDef = {
  name: "sentry.apigrant",
  table: "sentry_apigrant",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.fk("application", "sentry.apiapplication", { kind: "FlexibleForeignKey" }),
    f.string("code", 64, { default: hexToken }),
    f.datetime("expires_at", { default: inTenMinutes }),
    f.string("redirect_uri", 255),
    f.bitfield("scopes", { default: "0" }),
    f.json("scope_list", { nullable: true, default: "[]" }),
    f.fk("organization_id", "sentry.organization", { nullable: true, kind: "HybridCloudForeignKey" }),
  ],
  uniques: [],
};

// src/sentry/models/apikey.py (renuac85 @ 1a33c021; HasApiScopes' fields first)
export const apiKey: ModelDef = {
  name: "sentry.apikey",
  table: "sentry_apikey",
  silos: ["Control"],
  scope: "Global",
  fields: [
    ...apiScopeFields(),
    f.fk("organization_id", "sentry.organization", { kind: "HybridCloudForeignKey" }),
    f.string("label", 64, { default: "Default" }),
    f.string("key", 32),
    f.int("status", { default: 0 }),
    f.datetime("date_added", { default: now }),
    f.text("allowed_origins", { nullable: true }),
  ],
  uniques: [["key"]],
};

export const appModels: ModelDef[] = [apiApplication, apiToken, apiAuthorization, apiGrant, apiKey];

// Relocation hooks.

/** A token tied to an application only makes sense in a whole-instance restore. */
apiToken.instanceScope = (fields) =>
  fields.application === null || fields.application === undefined ? "Config" : "Global";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function tokenTaken(ctx: ImportContext, row: PendingRow): Promise<boolean> {
  const f = row.fields;
  const checks: [string, unknown][] = [
    ["token", f.token],
    ["refresh_token", f.refresh_token],
    ["hashed_token", f.hashed_token],
    ["hashed_refresh_token", f.hashed_refresh_token],
  ];
  for (const [column, value] of checks) {
    if (value === null || value === undefined) continue;
    const hit = await ctx.store.db
      .selectFrom(apiToken.table)
      .select("id")
      .where(column, "=", value)
      .executeTakeFirst();
    if (hit) return true;
  }
  return false;
}

/** Sentry's token format: the type prefix (if any) and 32 random bytes in hex. */
function newToken(tokenType: unknown): string {
  return `${typeof tokenType === "string" ? tokenType : ""}${hexToken()}`;
}

/**
 * A token (or refresh token) that exists here already is replaced by a new one; the refresh token
 * and the expiry are only renewed when the imported token had them.
 */
function regenerate(row: PendingRow, ctx: ImportContext): void {
  const f = row.fields;
  f.token = newToken(f.token_type);
  if (f.hashed_token !== null) f.hashed_token = sha256(f.token as string);
  f.token_last_characters = (f.token as string).slice(-4);
  if (f.refresh_token !== null) {
    f.refresh_token = newToken(f.token_type);
    if (f.hashed_refresh_token !== null) f.hashed_refresh_token = sha256(f.refresh_token as string);
  }
  if (f.expires_at !== null)
    f.expires_at = new Date(Date.parse(ctx.now) + 30 * 24 * 3600 * 1000).toISOString();
}

apiToken.write = async (rows, ctx) => {
  const out = [];
  for (const row of rows) {
    if (await tokenTaken(ctx, row)) regenerate(row, ctx);
    const [pk] = await insertFields(ctx.store, apiToken, [row.fields]);
    out.push({ pk, kind: "Inserted" as const });
  }
  return out;
};

/** An authorization for an application only makes sense in a whole-instance restore. */
apiAuthorization.instanceScope = (fields) =>
  fields.application === null || fields.application === undefined ? "Config" : "Global";
