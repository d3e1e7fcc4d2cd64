/**
 * Metric alerts: the Snuba queries they watch, their subscriptions, the alert rules with their
 * projects, triggers, trigger actions and activity, and the Excluded activation records. Field
 * lists follow the late-2024 schema that detailed.json (3f5fd083) describes; fields added during
 * 2024 carry defaults so that exports from 23.x import. Old owner columns are handled in legacy.ts.
 */
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

/** Sentry's QuerySubscription.Status.CREATING: the subscription still has to be made in Snuba. */
export const SUBSCRIPTION_CREATING = 1;

// src/sentry/snuba/models.py (2024 revision with `type` and the relocation hooks)
export const snubaQuery: ModelDef = {
  name: "sentry.snubaquery",
  table: "sentry_snubaquery",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("environment", "sentry.environment", { nullable: true, kind: "FlexibleForeignKey" }),
    f.int("type"),
    f.text("dataset"),
    f.text("query"),
    f.text("aggregate"),
    f.int("time_window"),
    f.int("resolution"),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
  relocationDependencies: ["sentry.organization", "sentry.project"],
  dangling: true,
};

// src/sentry/snuba/models.py
export const snubaQueryEventType: ModelDef = {
  name: "sentry.snubaqueryeventtype",
  table: "sentry_snubaqueryeventtype",
  silos: ["Region"],
  scope: "Organization",
  fields: [f.fk("snuba_query", "sentry.snubaquery", { kind: "FlexibleForeignKey" }), f.int("type")],
  uniques: [["snuba_query", "type"]],
};

// src/sentry/snuba/models.py; query_extra arrived in 2024
export const querySubscription: ModelDef = {
  name: "sentry.querysubscription",
  table: "sentry_querysubscription",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("snuba_query", "sentry.snubaquery", { nullable: true, kind: "FlexibleForeignKey" }),
    f.text("type"),
    f.int("status", { default: 0 }),
    f.text("subscription_id", { nullable: true }),
    f.datetime("date_added", { default: now }),
    f.datetime("date_updated", { nullable: true, default: now }),
    f.text("query_extra", { nullable: true }),
  ],
  uniques: [["subscription_id"]],
};

// src/sentry/incidents/models/alert_rule.py @ faebeabd (owner, include_all_projects and
// excluded_projects gone; description and the anomaly-detection columns present)
export const alertRule: ModelDef = {
  name: "sentry.alertrule",
  table: "sentry_alertrule",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("organization", "sentry.organization", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("snuba_query", "sentry.snubaquery", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("team", "sentry.team", { nullable: true, kind: "FlexibleForeignKey" }),
    f.text("name"),
    f.int("status", { default: 0 }),
    f.int("threshold_type", { nullable: true }),
    f.float("resolve_threshold", { nullable: true }),
    f.int("threshold_period"),
    f.int("comparison_delta", { nullable: true }),
    f.datetime("date_modified", { default: now }),
    f.datetime("date_added", { default: now }),
    f.int("monitor_type", { default: 0 }),
    f.string("description", 1000, { nullable: true }),
    f.text("detection_type", { default: "static" }),
    f.text("sensitivity", { nullable: true }),
    f.text("seasonality", { nullable: true }),
  ],
  uniques: [["snuba_query"]],
};

// src/sentry/incidents/models/alert_rule.py (the through table of AlertRule.projects)
export const alertRuleProjects: ModelDef = {
  name: "sentry.alertruleprojects",
  table: "sentry_alertruleprojects",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("alert_rule", "sentry.alertrule", { kind: "FlexibleForeignKey" }),
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["alert_rule", "project"]],
};

// src/sentry/incidents/models/alert_rule_activations.py
export const alertRuleActivationCondition: ModelDef = {
  name: "sentry.alertruleactivationcondition",
  table: "sentry_alertruleactivationcondition",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("alert_rule", "sentry.alertrule", { kind: "FlexibleForeignKey" }),
    f.text("label"),
    f.int("condition_type", { nullable: true }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["alert_rule", "label"]],
};

// src/sentry/incidents/models/alert_rule_activations.py: Excluded (never exported); defined because
// sentry.incident refers to it, which places incidents where Sentry's order puts them
export const alertRuleActivations: ModelDef = {
  name: "sentry.alertruleactivations",
  table: "sentry_alertruleactivations",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("alert_rule", "sentry.alertrule", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
    f.datetime("finished_at", { nullable: true }),
    f.float("metric_value", { nullable: true }),
    f.fk("query_subscription", "sentry.querysubscription", { nullable: true, kind: "FlexibleForeignKey" }),
  ],
  uniques: [],
};

// src/sentry/incidents/models/alert_rule.py
export const alertRuleTrigger: ModelDef = {
  name: "sentry.alertruletrigger",
  table: "sentry_alertruletrigger",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("alert_rule", "sentry.alertrule", { kind: "FlexibleForeignKey" }),
    f.text("label"),
    f.int("threshold_type", { nullable: true }),
    f.float("alert_threshold"),
    f.float("resolve_threshold", { nullable: true }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["alert_rule", "label"]],
};

/**
 * The fields of Sentry's AbstractNotificationAction, shared by alert rule trigger actions and
 * notification actions; they come first in an export.
 */
export function notificationActionFields() {
  return [
    f.fk("integration_id", "sentry.integration", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("sentry_app_id", "sentry.sentryapp", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.int("type"),
    f.int("target_type"),
    f.text("target_identifier", { nullable: true }),
    f.text("target_display", { nullable: true }),
  ];
}

// src/sentry/incidents/models/alert_rule.py (AbstractNotificationAction's fields first)
export const alertRuleTriggerAction: ModelDef = {
  name: "sentry.alertruletriggeraction",
  table: "sentry_alertruletriggeraction",
  silos: ["Region"],
  scope: "Global",
  fields: [
    ...notificationActionFields(),
    f.fk("alert_rule_trigger", "sentry.alertruletrigger", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
    f.json("sentry_app_config", { nullable: true }),
    f.int("status", { default: 0 }),
  ],
  uniques: [],
};

// src/sentry/incidents/models/alert_rule.py
export const alertRuleActivity: ModelDef = {
  name: "sentry.alertruleactivity",
  table: "sentry_alertruleactivity",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("alert_rule", "sentry.alertrule", { kind: "FlexibleForeignKey" }),
    f.fk("previous_alert_rule", "sentry.alertrule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.int("type"),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
};

export const alertModels: ModelDef[] = [
  snubaQuery,
  snubaQueryEventType,
  querySubscription,
  alertRule,
  alertRuleProjects,
  alertRuleActivationCondition,
  alertRuleActivations,
  alertRuleTrigger,
  alertRuleTriggerAction,
  alertRuleActivity,
];

// Relocation hooks.

/**
 * Sentry re-creates an imported subscription through Snuba (create_snuba_subscription): the row is
 * new, waiting to be registered (status CREATING, no Snuba subscription id yet), and keeps its
 * creation date. relo has no Snuba to register with; the instance it restores into does that.
 */
querySubscription.populate = () => ({ status: SUBSCRIPTION_CREATING, subscription_id: null });

querySubscription.normalize = (row, ctx) => {
  row.fields.status = SUBSCRIPTION_CREATING;
  row.fields.subscription_id = null;
  row.fields.date_updated = ctx.now;
  return undefined;
};

/**
 * A Snuba query has no reference to its owner: a scoped export keeps the queries of the exported
 * organizations' alert rules and of the exported projects' subscriptions (Sentry's
 * query_for_relocation_export). Organizations and projects are exported before the queries; the
 * rules and subscriptions, which come after, are read from the database.
 */
snubaQuery.exportFilter = async (ctx) => {
  const keep = new Set<number>();
  const owners: [ModelDef, string, string][] = [
    [alertRule, "organization_id", "sentry.organization"],
    [querySubscription, "project_id", "sentry.project"],
  ];
  for (const [model, column, owner] of owners) {
    const exported = ctx.exported(owner);
    const text = `SELECT "${column}", "snuba_query_id" FROM "${model.table}" WHERE "snuba_query_id" IS NOT NULL`;
    for await (const chunk of ctx.store.scan(text, [])) {
      for (const [ownerId, queryId] of chunk) {
        if (ownerId !== null && exported.has(Number(ownerId))) keep.add(Number(queryId));
      }
    }
  }
  return (row) => keep.has(row.pk);
};
