/**
 * Sentry apps (integration platform): the app, its UI components, its installations in
 * organizations and the service hooks that deliver its webhooks. All Global scope.
 * src/sentry/sentry_apps/models/*.py (late 2024; the exported columns match renuac85 @ 1a33c021).
 */
import { randomUUID } from "node:crypto";
import { apiScopeFields, f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// ParanoidModel's date_deleted and HasApiScopes' fields come before the model's own.
export const sentryApp: ModelDef = {
  name: "sentry.sentryapp",
  table: "sentry_sentryapp",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.datetime("date_deleted", { nullable: true }),
    ...apiScopeFields(),
    f.fk("application", "sentry.apiapplication", { nullable: true, kind: "DefaultOneToOneField" }),
    f.fk("proxy_user", "sentry.user", { nullable: true, kind: "DefaultOneToOneField" }),
    f.fk("owner_id", "sentry.organization", { kind: "HybridCloudForeignKey" }),
    f.text("name"),
    // SENTRY_APP_SLUG_MAX_LENGTH
    f.string("slug", 64),
    f.text("author", { nullable: true }),
    f.int("status", { default: 0 }),
    f.string("uuid", 64, { default: () => randomUUID() }),
    f.string("redirect_url", 200, { nullable: true }),
    f.string("webhook_url", 512, { nullable: true }),
    f.bool("is_alertable", { default: false }),
    f.bool("verify_install", { default: true }),
    f.json("events", { nullable: true, default: "[]" }),
    f.text("overview", { nullable: true }),
    f.json("schema", { default: () => ({}) }),
    f.datetime("date_added", { default: now }),
    f.datetime("date_updated", { default: now }),
    f.datetime("date_published", { nullable: true }),
    f.fk("creator_user", "sentry.user", { nullable: true, kind: "FlexibleForeignKey" }),
    f.text("creator_label", { nullable: true }),
    f.int("popularity", { nullable: true, default: 1 }),
    f.json("metadata", { default: () => ({}) }),
  ],
  uniques: [["application"], ["proxy_user"], ["slug"]],
};

export const sentryAppComponent: ModelDef = {
  name: "sentry.sentryappcomponent",
  table: "sentry_sentryappcomponent",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.uuid("uuid", { default: () => randomUUID() }),
    f.fk("sentry_app", "sentry.sentryapp", { kind: "FlexibleForeignKey" }),
    f.string("type", 64),
    f.json("schema"),
  ],
  uniques: [["uuid"]],
};

// ParanoidModel's date_deleted first (ReplicatedControlModel adds no columns).
export const sentryAppInstallation: ModelDef = {
  name: "sentry.sentryappinstallation",
  table: "sentry_sentryappinstallation",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.datetime("date_deleted", { nullable: true }),
    f.fk("sentry_app", "sentry.sentryapp", { kind: "FlexibleForeignKey" }),
    f.fk("organization_id", "sentry.organization", { kind: "HybridCloudForeignKey" }),
    f.fk("api_grant", "sentry.apigrant", { nullable: true, kind: "DefaultOneToOneField" }),
    f.fk("api_token", "sentry.apitoken", { nullable: true, kind: "DefaultOneToOneField" }),
    f.string("uuid", 64, { default: () => randomUUID() }),
    f.int("status", { default: 0 }),
    f.datetime("date_added", { default: now }),
    f.datetime("date_updated", { default: now }),
  ],
  uniques: [["api_grant"], ["api_token"]],
};

// actor_id is the hook's creator (a user id Sentry keeps as a plain integer).
export const serviceHook: ModelDef = {
  name: "sentry.servicehook",
  table: "sentry_servicehook",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.string("guid", 32, { nullable: true }),
    f.fk("application_id", "sentry.apiapplication", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.bigint("actor_id"),
    f.fk("installation_id", "sentry.sentryappinstallation", {
      nullable: true,
      kind: "HybridCloudForeignKey",
    }),
    f.fk("project_id", "sentry.project", { nullable: true, kind: "ImplicitForeignKey" }),
    f.fk("organization_id", "sentry.organization", { nullable: true, kind: "ImplicitForeignKey" }),
    f.string("url", 512),
    f.text("secret"),
    f.json("events", { nullable: true, default: "[]" }),
    f.int("status", { default: 0 }),
    f.int("version", { default: 0 }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["guid"]],
};

export const sentryAppModels: ModelDef[] = [
  sentryApp,
  sentryAppComponent,
  sentryAppInstallation,
  serviceHook,
];
