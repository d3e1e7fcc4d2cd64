/**
 * Project-side models of Sentry's region silo. Field lists follow the late-2024 schema that
 * fixtures/backup/model_dependencies/detailed.json (3f5fd083) describes; fields newer than the
 * 2023 fresh-install fixture (project.template, projectkey.use_case, rule owners) carry defaults
 * or are nullable so that older exports still import.
 */
import { randomBytes } from "node:crypto";
import { idsByValue, insertAll } from "../backup/import/write.js";
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// src/sentry/models/project.py (late-2024 revision with `template`, commit not shown by the index); the flags bitfield class is declared after template, so it exports after it
export const project: ModelDef = {
  name: "sentry.project",
  table: "sentry_project",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.string("slug", 100, { nullable: true }),
    f.string("name", 200),
    f.string("forced_color", 6, { nullable: true }),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.bool("public", { default: false }),
    f.datetime("date_added", { default: now }),
    f.int("status", { default: 0 }),
    f.datetime("first_event", { nullable: true }),
    f.fk("template", "sentry.projecttemplate", { nullable: true, kind: "FlexibleForeignKey" }),
    // bitfield_null=True in the typed bitfield
    f.bitfield("flags", { nullable: true, default: "10" }),
    f.string("platform", 64, { nullable: true }),
  ],
  uniques: [["organization", "slug"]],
};

// src/sentry/models/projectteam.py (region_silo_model revision)
export const projectTeam: ModelDef = {
  name: "sentry.projectteam",
  table: "sentry_projectteam",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("team", "sentry.team", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["project", "team"]],
};

// src/sentry/models/projectkey.py (revision with use_case); roles defaults to the "store" flag (bit 0) and data to a fresh {} per row
export const projectKey: ModelDef = {
  name: "sentry.projectkey",
  table: "sentry_projectkey",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.string("label", 64, { nullable: true }),
    f.string("public_key", 32, { nullable: true }),
    f.string("secret_key", 32, { nullable: true }),
    f.bitfield("roles", { default: "1" }),
    f.int("status", { default: 0 }),
    f.datetime("date_added", { nullable: true, default: now }),
    f.int("rate_limit_count", { nullable: true }),
    f.int("rate_limit_window", { nullable: true }),
    f.json("data", { default: () => ({}) }),
    f.string("use_case", 32, { default: "user" }),
  ],
  uniques: [["public_key"], ["secret_key"]],
};

// src/sentry/models/options/project_option.py (region_silo_model revision); value is a PickledObjectField
export const projectOption: ModelDef = {
  name: "sentry.projectoption",
  table: "sentry_projectoptions",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.string("key", 64),
    f.json("value"),
  ],
  uniques: [["key", "project"]],
};

// src/sentry/models/environment.py (newest index copy; its field set matches the May-2024 export snapshot); the projects M2M goes through EnvironmentProject, so it is not exported
export const environment: ModelDef = {
  name: "sentry.environment",
  table: "sentry_environment",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization_id", "sentry.organization", { kind: "ImplicitForeignKey" }),
    f.string("name", 64),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["name", "organization_id"]],
};

// src/sentry/models/environment.py (same file as Environment)
export const environmentProject: ModelDef = {
  name: "sentry.environmentproject",
  table: "sentry_environmentproject",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("environment", "sentry.environment", { kind: "FlexibleForeignKey" }),
    f.bool("is_hidden", { nullable: true }),
  ],
  uniques: [["environment", "project"]],
};

// src/sentry/models/rule.py (revision after the Actor-based `owner` column was dropped); data is a GzippedDictField with no static default
export const rule: ModelDef = {
  name: "sentry.rule",
  table: "sentry_rule",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("environment_id", "sentry.environment", { nullable: true, kind: "ImplicitForeignKey" }),
    f.string("label", 256),
    f.json("data"),
    f.int("status", { default: 0 }),
    f.int("source", { default: 0 }),
    f.fk("owner_user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("owner_team", "sentry.team", { nullable: true, kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
};

export const projectModels: ModelDef[] = [
  project,
  projectTeam,
  projectKey,
  projectOption,
  environment,
  environmentProject,
  rule,
];

// Relocation hooks.

/** A whole-instance restore keeps project ids, so DSNs and SDK configs keep working. */
project.normalize = (row, ctx) => {
  if (ctx.scope === "Global") row.pk = row.oldPk;
  return undefined;
};

const newKey = () => randomBytes(16).toString("hex");

/**
 * A DSN key already used here (or earlier in the batch) is replaced by a new one; the existing
 * DSN keeps working. Unlike Sentry, every imported key of a project is kept (Sentry keeps one:
 * getsentry/self-hosted#4502).
 */
projectKey.write = async (rows, ctx) => {
  const used = new Set<unknown>();
  for (const column of ["public_key", "secret_key"]) {
    const hits = await idsByValue(
      ctx.store,
      projectKey,
      column,
      rows.map((r) => r.fields[column]),
    );
    for (const value of hits.keys()) used.add(value);
  }
  for (const row of rows) {
    const k = row.fields;
    if (!k.public_key || used.has(k.public_key)) k.public_key = newKey();
    if (!k.secret_key || used.has(k.secret_key)) k.secret_key = newKey();
    used.add(k.public_key);
    used.add(k.secret_key);
  }
  return insertAll(rows, ctx);
};
