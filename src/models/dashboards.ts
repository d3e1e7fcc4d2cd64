/**
 * Dashboards, their widgets and widget queries, on-demand metric state, edit permissions,
 * favorites and tombstones of deleted prebuilt dashboards. Late-2024 schema (detailed.json
 * 3f5fd083); columns added during 2024 (widget dataset_source, query selected_aggregate,
 * permissions, favorites) carry defaults so that older exports import.
 */
import { defaultFields, f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// src/sentry/models/dashboard.py (renuac85 @ e825d0e9, plus nothing removed since)
export const dashboard: ModelDef = {
  name: "sentry.dashboard",
  table: "sentry_dashboard",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.string("title", 255),
    f.fk("created_by_id", "sentry.user", { kind: "HybridCloudForeignKey" }),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
    f.bigint("visits", { nullable: true, default: 1 }),
    f.datetime("last_visited", { nullable: true, default: now }),
    f.json("filters", { nullable: true }),
  ],
  uniques: [["organization", "title"]],
};

// src/sentry/models/dashboard.py (a SentrySlugField of 255)
export const dashboardTombstone: ModelDef = {
  name: "sentry.dashboardtombstone",
  table: "sentry_dashboardtombstone",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.string("slug", 255),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["organization", "slug"]],
};

// src/sentry/models/dashboard.py (DefaultFieldsModel; added in 2024)
export const dashboardFavoriteUser: ModelDef = {
  name: "sentry.dashboardfavoriteuser",
  table: "sentry_dashboardfavoriteuser",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("user_id", "sentry.user", { kind: "HybridCloudForeignKey" }),
    f.fk("dashboard", "sentry.dashboard", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["dashboard", "user_id"]],
};

// src/sentry/models/dashboard_permissions.py (added in 2024; the teams M2M goes through
// DashboardPermissionsTeam, so it is not exported)
export const dashboardPermissions: ModelDef = {
  name: "sentry.dashboardpermissions",
  table: "sentry_dashboardpermissions",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.bool("is_editable_by_everyone", { default: true }),
    f.fk("dashboard", "sentry.dashboard", { kind: "DefaultOneToOneField" }),
  ],
  uniques: [["dashboard"]],
};

// src/sentry/models/dashboard_permissions.py
export const dashboardPermissionsTeam: ModelDef = {
  name: "sentry.dashboardpermissionsteam",
  table: "sentry_dashboardpermissionsteam",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("team", "sentry.team", { kind: "FlexibleForeignKey" }),
    f.fk("permissions", "sentry.dashboardpermissions", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["permissions", "team"]],
};

// src/sentry/models/dashboard_widget.py (renuac85 @ e825d0e9 + dataset_source, 2024)
export const dashboardWidget: ModelDef = {
  name: "sentry.dashboardwidget",
  table: "sentry_dashboardwidget",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("dashboard", "sentry.dashboard", { kind: "FlexibleForeignKey" }),
    f.int("order"),
    f.string("title", 255),
    f.string("description", 255, { nullable: true }),
    f.json("thresholds", { nullable: true }),
    f.string("interval", 10, { nullable: true }),
    f.int("display_type"),
    f.datetime("date_added", { default: now }),
    f.int("widget_type", { nullable: true }),
    f.int("limit", { nullable: true }),
    f.json("detail", { nullable: true }),
    f.int("discover_widget_split", { nullable: true }),
    f.int("dataset_source", { default: 0 }),
  ],
  uniques: [["dashboard", "order"]],
};

// src/sentry/models/dashboard_widget.py; the Array fields are list reprs (Sentry's ArrayField) or
// JSON lists (Django's postgres ArrayField) as strings
export const dashboardWidgetQuery: ModelDef = {
  name: "sentry.dashboardwidgetquery",
  table: "sentry_dashboardwidgetquery",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("widget", "sentry.dashboardwidget", { kind: "FlexibleForeignKey" }),
    f.string("name", 255),
    f.json("fields", { nullable: true, default: "[]" }),
    f.text("conditions"),
    f.json("aggregates", { nullable: true }),
    f.json("columns", { nullable: true }),
    f.json("field_aliases", { nullable: true }),
    f.text("orderby", { default: "" }),
    f.int("order"),
    f.datetime("date_added", { default: now }),
    f.datetime("date_modified", { default: now }),
    f.bool("is_hidden", { default: false }),
    f.int("selected_aggregate", { nullable: true }),
  ],
  uniques: [["order", "widget"]],
};

// src/sentry/models/dashboard_widget.py
export const dashboardWidgetQueryOnDemand: ModelDef = {
  name: "sentry.dashboardwidgetqueryondemand",
  table: "sentry_dashboardwidgetqueryondemand",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    f.fk("dashboard_widget_query", "sentry.dashboardwidgetquery", { kind: "FlexibleForeignKey" }),
    f.json("spec_hashes", { nullable: true, default: "[]" }),
    f.int("spec_version", { nullable: true }),
    f.string("extraction_state", 30),
    f.datetime("date_modified", { default: now }),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
};

export const dashboardModels: ModelDef[] = [
  dashboard,
  dashboardTombstone,
  dashboardFavoriteUser,
  dashboardPermissions,
  dashboardPermissionsTeam,
  dashboardWidget,
  dashboardWidgetQuery,
  dashboardWidgetQueryOnDemand,
];
