/**
 * Project-side models of Sentry's region silo. Field lists follow the late-2024 schema that
 * fixtures/backup/model_dependencies/detailed.json (3f5fd083) describes; fields newer than the
 * 2023 fresh-install fixture (project.template, projectkey.use_case, rule owners) carry defaults
 * or are nullable so that older exports still import.
 */
import { randomBytes } from "node:crypto";
import { idsByValue, insertAll } from "../backup/import/write.js";
import { defaultFields, f } from "./fields.js";
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

// src/sentry/models/rule.py (RuleActivity)
export const ruleActivity: ModelDef = {
  name: "sentry.ruleactivity",
  table: "sentry_ruleactivity",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("rule", "sentry.rule", { kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.int("type"),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
};

// src/sentry/models/rulesnooze.py: a snooze of an issue alert (rule) or a metric alert
// (alert_rule), for one user or (user_id null) for everyone. The single-rule unique sets only
// hold for everyone-snoozes in Sentry.
export const ruleSnooze: ModelDef = {
  name: "sentry.rulesnooze",
  table: "sentry_rulesnooze",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("owner_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("rule", "sentry.rule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("alert_rule", "sentry.alertrule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.datetime("until", { nullable: true }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["alert_rule"], ["alert_rule", "user_id"], ["rule"], ["rule", "user_id"]],
  uniqueConditions: {
    alert_rule: { field: "user_id", isNull: true },
    rule: { field: "user_id", isNull: true },
  },
};

// src/sentry/models/neglectedrule.py
export const neglectedRule: ModelDef = {
  name: "sentry.neglectedrule",
  table: "sentry_neglectedrule",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("rule", "sentry.rule", { kind: "FlexibleForeignKey" }),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.datetime("disable_date"),
    f.bool("opted_out", { default: false }),
    f.datetime("sent_initial_email_date", { nullable: true }),
    f.datetime("sent_final_email_date", { nullable: true }),
  ],
  uniques: [],
};

// src/sentry/models/projectbookmark.py
export const projectBookmark: ModelDef = {
  name: "sentry.projectbookmark",
  table: "sentry_projectbookmark",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { kind: "HybridCloudForeignKey" }),
    f.datetime("date_added", { nullable: true, default: now }),
  ],
  uniques: [["project", "user_id"]],
};

// src/sentry/models/projectownership.py: ownership rules (raw text and parsed schema)
export const projectOwnership: ModelDef = {
  name: "sentry.projectownership",
  table: "sentry_projectownership",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.text("raw", { nullable: true }),
    f.json("schema", { nullable: true }),
    f.bool("fallthrough", { default: true }),
    f.bool("auto_assignment", { default: true }),
    f.datetime("date_created", { default: now }),
    f.datetime("last_updated", { default: now }),
    f.bool("is_active", { default: true }),
    f.bool("codeowners_auto_sync", { nullable: true, default: true }),
    f.bool("suspect_committer_auto_assignment", { default: false }),
  ],
  uniques: [["project"]],
};

// src/sentry/models/projectredirect.py: an old project slug that still leads to the project
export const projectRedirect: ModelDef = {
  name: "sentry.projectredirect",
  table: "sentry_projectredirect",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.string("redirect_slug", 50),
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["organization", "redirect_slug"]],
};

// src/sentry/models/projecttemplate.py (DefaultFieldsModel, added in 2024)
export const projectTemplate: ModelDef = {
  name: "sentry.projecttemplate",
  table: "sentry_projecttemplate",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.string("name", 200),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["name", "organization"]],
};

// src/sentry/models/options/project_template_option.py; value is a PickledObjectField
export const projectTemplateOption: ModelDef = {
  name: "sentry.projecttemplateoption",
  table: "sentry_projecttemplateoption",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project_template", "sentry.projecttemplate", { kind: "FlexibleForeignKey" }),
    f.string("key", 64),
    f.json("value"),
  ],
  uniques: [["key", "project_template"]],
};

// src/sentry/models/counter.py: the project's short-id counter (table sentry_projectcounter)
export const counter: ModelDef = {
  name: "sentry.counter",
  table: "sentry_projectcounter",
  silos: ["Region"],
  scope: "Organization",
  fields: [f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }), f.bigint("value")],
  uniques: [["project"]],
};

// src/sentry/models/dynamicsampling.py (renuac85 @ e825d0e9)
export const customDynamicSamplingRule: ModelDef = {
  name: "sentry.customdynamicsamplingrule",
  table: "sentry_customdynamicsamplingrule",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.datetime("date_added", { default: now }),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.bool("is_active", { default: true }),
    f.bool("is_org_level", { default: false }),
    f.int("rule_id", { default: 0 }),
    f.text("condition"),
    f.float("sample_rate", { default: 0 }),
    f.datetime("start_date", { default: now }),
    f.datetime("end_date"),
    f.int("num_samples"),
    f.string("condition_hash", 40),
    f.text("query", { nullable: true }),
    f.fk("created_by_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.bool("notification_sent", { nullable: true }),
  ],
  uniques: [],
};

// src/sentry/models/dynamicsampling.py (the through table of CustomDynamicSamplingRule.projects)
export const customDynamicSamplingRuleProject: ModelDef = {
  name: "sentry.customdynamicsamplingruleproject",
  table: "sentry_customdynamicsamplingruleproject",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("custom_dynamic_sampling_rule", "sentry.customdynamicsamplingrule", { kind: "FlexibleForeignKey" }),
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["custom_dynamic_sampling_rule", "project"]],
};

export const projectModels: ModelDef[] = [
  project,
  projectTeam,
  projectKey,
  projectOption,
  environment,
  environmentProject,
  rule,
  ruleActivity,
  ruleSnooze,
  neglectedRule,
  projectBookmark,
  projectOwnership,
  projectRedirect,
  projectTemplate,
  projectTemplateOption,
  counter,
  customDynamicSamplingRule,
  customDynamicSamplingRuleProject,
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
/** `relo dev populate`: DSN keys are 32 hex characters. */
projectKey.populate = (_i, ctx) => ({ public_key: ctx.hex(32), secret_key: ctx.hex(32) });

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
