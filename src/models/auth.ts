/**
 * Single sign-on: an organization's auth provider and its users' linked identities. Both are
 * Global scope (they only move with a whole instance). src/sentry/models/authprovider.py and
 * authidentity.py (renuac85 @ 1a33c021; unchanged in the exported columns through late 2024).
 */
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// The flags bitfield class is declared after the fields, so it exports last.
export const authProvider: ModelDef = {
  name: "sentry.authprovider",
  table: "sentry_authprovider",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.fk("organization_id", "sentry.organization", { kind: "HybridCloudForeignKey" }),
    f.string("provider", 128),
    f.json("config"),
    f.datetime("date_added", { default: now }),
    f.int("sync_time", { nullable: true }),
    f.datetime("last_sync", { nullable: true }),
    f.int("default_role", { default: 50 }),
    f.bool("default_global_access", { default: true }),
    f.bitfield("flags", { default: "0" }),
  ],
  uniques: [["organization_id"]],
};

export const authIdentity: ModelDef = {
  name: "sentry.authidentity",
  table: "sentry_authidentity",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.fk("auth_provider", "sentry.authprovider", { kind: "FlexibleForeignKey" }),
    f.string("ident", 128),
    f.json("data", { default: () => ({}) }),
    f.datetime("last_verified", { default: now }),
    f.datetime("last_synced", { default: now }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [
    ["auth_provider", "ident"],
    ["auth_provider", "user"],
  ],
};

export const authModels: ModelDef[] = [authProvider, authIdentity];
