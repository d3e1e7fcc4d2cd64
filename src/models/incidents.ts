/**
 * Metric alert incidents and their snapshots, triggers and activity; all Global scope (a whole
 * instance restore only). src/sentry/incidents/models/incident.py @ 93d88153 (late 2024: still has
 * `activation`, the snapshots and the removed-later IncidentSubscription).
 */
import { randomUUID } from "node:crypto";
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

export const incident: ModelDef = {
  name: "sentry.incident",
  table: "sentry_incident",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.fk("alert_rule", "sentry.alertrule", { kind: "FlexibleForeignKey" }),
    f.int("identifier"),
    f.uuid("detection_uuid", { nullable: true }),
    f.int("status", { default: 1 }),
    f.int("status_method", { default: 3 }),
    f.int("type"),
    f.text("title"),
    f.datetime("date_started", { default: now }),
    f.datetime("date_detected", { default: now }),
    f.datetime("date_added", { default: now }),
    f.datetime("date_closed", { nullable: true }),
    // Activations are never exported, so a reference to one is cleared and the incident kept
    // (Sentry drops the incident).
    f.fk("activation", "sentry.alertruleactivations", {
      nullable: true,
      kind: "FlexibleForeignKey",
      clearIfUnmapped: true,
    }),
    f.fk("subscription", "sentry.querysubscription", { nullable: true, kind: "FlexibleForeignKey" }),
  ],
  uniques: [["identifier", "organization"]],
};

export const timeSeriesSnapshot: ModelDef = {
  name: "sentry.timeseriessnapshot",
  table: "sentry_timeseriessnapshot",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.datetime("start"),
    f.datetime("end"),
    // ArrayField of ArrayField of floats: a Python list repr in exports
    f.json("values"),
    f.int("period"),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
  relocationDependencies: ["sentry.incident"],
  dangling: true,
};

export const pendingIncidentSnapshot: ModelDef = {
  name: "sentry.pendingincidentsnapshot",
  table: "sentry_pendingincidentsnapshot",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("incident", "sentry.incident", { kind: "OneToOneCascadeDeletes" }),
    f.datetime("target_run_date", { default: now }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["incident"]],
};

export const incidentSnapshot: ModelDef = {
  name: "sentry.incidentsnapshot",
  table: "sentry_incidentsnapshot",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("incident", "sentry.incident", { kind: "OneToOneCascadeDeletes" }),
    f.fk("event_stats_snapshot", "sentry.timeseriessnapshot", { kind: "FlexibleForeignKey" }),
    f.int("unique_users"),
    f.int("total_events"),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["incident"]],
};

export const incidentActivity: ModelDef = {
  name: "sentry.incidentactivity",
  table: "sentry_incidentactivity",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("incident", "sentry.incident", { kind: "FlexibleForeignKey" }),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.int("type"),
    f.text("value", { nullable: true }),
    f.text("previous_value", { nullable: true }),
    f.text("comment", { nullable: true }),
    f.datetime("date_added", { default: now }),
    f.uuid("notification_uuid", { nullable: true }),
  ],
  uniques: [],
};

export const incidentTrigger: ModelDef = {
  name: "sentry.incidenttrigger",
  table: "sentry_incidenttrigger",
  silos: ["Region"],
  scope: "Global",
  fields: [
    f.fk("incident", "sentry.incident", { kind: "FlexibleForeignKey" }),
    f.fk("alert_rule_trigger", "sentry.alertruletrigger", { kind: "FlexibleForeignKey" }),
    f.int("status"),
    f.datetime("date_modified", { default: now }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["alert_rule_trigger", "incident"]],
};

export const incidentModels: ModelDef[] = [
  incident,
  timeSeriesSnapshot,
  pendingIncidentSnapshot,
  incidentSnapshot,
  incidentActivity,
  incidentTrigger,
];

// Relocation hooks.

/** An incident's detection id (matched against the detector's events) is new after an import. */
incident.normalize = (row) => {
  if (row.fields.detection_uuid) row.fields.detection_uuid = randomUUID();
  return undefined;
};

/** A notification id identifies one sent notification; the imported activity gets a new one. */
incidentActivity.normalize = (row) => {
  if (row.fields.notification_uuid) row.fields.notification_uuid = randomUUID();
  return undefined;
};
