import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// src/sentry/integrations/models/integration.py @ 592b66a3 (date fields come from DefaultFieldsModelExisting;
// external_id widened to 256 and debug_data added only in 2025)
export const integration: ModelDef = {
  name: "sentry.integration",
  table: "sentry_integration",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.datetime("date_updated", { default: now }),
    f.datetime("date_added", { nullable: true, default: now }),
    f.string("provider", 64),
    f.string("external_id", 64),
    f.string("name", 200),
    f.json("metadata", { default: () => ({}) }),
    f.int("status", { nullable: true, default: 0 }),
  ],
  uniques: [["external_id", "provider"]],
};

// src/sentry/integrations/models/organization_integration.py (renuac85 @ 1a33c021)
export const organizationIntegration: ModelDef = {
  name: "sentry.organizationintegration",
  table: "sentry_organizationintegration",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.datetime("date_updated", { default: now }),
    f.datetime("date_added", { nullable: true, default: now }),
    f.fk("organization_id", "sentry.organization", { kind: "HybridCloudForeignKey" }),
    f.fk("integration", "sentry.integration", { kind: "FlexibleForeignKey" }),
    f.json("config", { default: () => ({}) }),
    f.int("default_auth_id", { nullable: true }),
    f.int("status", { default: 0 }),
    f.datetime("grace_period_end", { nullable: true }),
  ],
  uniques: [["integration", "organization_id"]],
};

// src/sentry/integrations/models/project_integration.py (deprecated by Sentry, still exported)
export const projectIntegration: ModelDef = {
  name: "sentry.projectintegration",
  table: "sentry_projectintegration",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("integration_id", "sentry.integration", { kind: "HybridCloudForeignKey" }),
    f.json("config", { default: () => ({}) }),
  ],
  uniques: [["integration_id", "project"]],
};

// src/sentry/models/repository.py (renuac85 @ 1a33c021); languages arrived in 2024
export const repository: ModelDef = {
  name: "sentry.repository",
  table: "sentry_repository",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("organization_id", "sentry.organization", { kind: "ImplicitForeignKey" }),
    f.string("name", 200),
    f.string("url", 200, { nullable: true }),
    f.string("provider", 64, { nullable: true }),
    f.string("external_id", 64, { nullable: true }),
    f.json("config", { default: () => ({}) }),
    f.int("status", { default: 0 }),
    f.datetime("date_added", { default: now }),
    f.fk("integration_id", "sentry.integration", { nullable: true, kind: "ImplicitForeignKey" }),
    f.json("languages", { nullable: true, default: "[]" }),
  ],
  uniques: [["external_id", "organization_id", "provider"]],
};

export const integrationModels: ModelDef[] = [
  integration,
  organizationIntegration,
  projectIntegration,
  repository,
];
