/**
 * The workflow engine (detectors, workflows, data conditions and data sources, and the lookup
 * tables linking them to the alert rules they replace), as of late 2024: the engine was new and
 * still changing, so columns added afterwards carry defaults. src/sentry/workflow_engine/models/
 * (read at several 2024-2025 revisions, reduced to the foreign keys and unique sets detailed.json
 * 3f5fd083 lists). Every model is a DefaultFieldsModel: date_updated and date_added come first.
 */
import { defaultFields, f, ownerFields } from "./fields.js";
import type { ModelDef } from "./types.js";

// data_condition_group.py
export const dataConditionGroup: ModelDef = {
  name: "workflow_engine.dataconditiongroup",
  table: "workflow_engine_dataconditiongroup",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.string("logic_type", 200, { default: "any" }),
    f.fk("organization", "sentry.organization", { kind: "DefaultForeignKey" }),
  ],
  uniques: [],
};

// data_condition.py
export const dataCondition: ModelDef = {
  name: "workflow_engine.datacondition",
  table: "workflow_engine_datacondition",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.string("condition", 200, { nullable: true }),
    f.json("comparison"),
    f.json("condition_result"),
    f.string("type", 200, { default: "eq" }),
    f.fk("condition_group", "workflow_engine.dataconditiongroup", { kind: "DefaultForeignKey" }),
  ],
  uniques: [],
};

// data_source.py
export const dataSource: ModelDef = {
  name: "workflow_engine.datasource",
  table: "workflow_engine_datasource",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.bigint("query_id"),
    f.text("type"),
  ],
  uniques: [],
};

// detector.py (OwnerModel's fields, then JSONConfigBase's config, then the model's own; the
// organization reference was on its way out, replaced by the project)
export const detector: ModelDef = {
  name: "workflow_engine.detector",
  table: "workflow_engine_detector",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    ...ownerFields(),
    f.json("config", { default: () => ({}) }),
    f.fk("organization", "sentry.organization", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("project", "sentry.project", { nullable: true, kind: "FlexibleForeignKey" }),
    f.string("name", 200),
    f.bool("enabled", { default: true }),
    f.fk("workflow_condition_group", "workflow_engine.dataconditiongroup", {
      nullable: true,
      kind: "FlexibleForeignKey",
    }),
    f.string("type", 200, { default: "" }),
    f.fk("created_by_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
  ],
  uniques: [["name", "organization"], ["workflow_condition_group"]],
  dangling: true,
};

// workflow.py (OwnerModel's fields, then JSONConfigBase's config, then the model's own)
export const workflow: ModelDef = {
  name: "workflow_engine.workflow",
  table: "workflow_engine_workflow",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    ...ownerFields(),
    f.json("config", { default: () => ({}) }),
    f.string("name", 200),
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.bool("enabled", { default: true }),
    f.fk("when_condition_group", "workflow_engine.dataconditiongroup", {
      nullable: true,
      kind: "FlexibleForeignKey",
    }),
    f.fk("environment", "sentry.environment", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("created_by_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
  ],
  uniques: [["name", "organization"]],
};

// data_source_detector.py
export const dataSourceDetector: ModelDef = {
  name: "workflow_engine.datasourcedetector",
  table: "workflow_engine_datasourcedetector",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("data_source", "workflow_engine.datasource", { kind: "FlexibleForeignKey" }),
    f.fk("detector", "workflow_engine.detector", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["data_source", "detector"]],
};

// detector_workflow.py
export const detectorWorkflow: ModelDef = {
  name: "workflow_engine.detectorworkflow",
  table: "workflow_engine_detectorworkflow",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("detector", "workflow_engine.detector", { kind: "FlexibleForeignKey" }),
    f.fk("workflow", "workflow_engine.workflow", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [],
};

// workflow_data_condition_group.py
export const workflowDataConditionGroup: ModelDef = {
  name: "workflow_engine.workflowdataconditiongroup",
  table: "workflow_engine_workflowdataconditiongroup",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("condition_group", "workflow_engine.dataconditiongroup", { kind: "FlexibleForeignKey" }),
    f.fk("workflow", "workflow_engine.workflow", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [["condition_group"]],
};

// workflow_group_status.py: when a workflow last fired for an issue. Issues are never exported,
// so these rows never import (Sentry drops them the same way).
export const workflowGroupStatus: ModelDef = {
  name: "workflow_engine.workflowgroupstatus",
  table: "workflow_engine_workflowgroupstatus",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("workflow", "workflow_engine.workflow", { kind: "FlexibleForeignKey" }),
    f.fk("group", "sentry.group", { kind: "FlexibleForeignKey" }),
    f.int("status", { default: 0 }),
  ],
  uniques: [["group", "workflow"]],
};

// alertrule_detector.py (late 2024: real foreign keys to the alert rule or the issue rule)
export const alertRuleDetector: ModelDef = {
  name: "workflow_engine.alertruledetector",
  table: "workflow_engine_alertruledetector",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("alert_rule", "sentry.alertrule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("rule", "sentry.rule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("detector", "workflow_engine.detector", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [
    ["alert_rule", "detector"],
    ["detector", "rule"],
  ],
  dangling: true,
};

// alertrule_workflow.py
export const alertRuleWorkflow: ModelDef = {
  name: "workflow_engine.alertruleworkflow",
  table: "workflow_engine_alertruleworkflow",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("alert_rule", "sentry.alertrule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("rule", "sentry.rule", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("workflow", "workflow_engine.workflow", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [
    ["alert_rule", "workflow"],
    ["rule", "workflow"],
  ],
};

// alertruletrigger_data_condition.py
export const alertRuleTriggerDataCondition: ModelDef = {
  name: "workflow_engine.alertruletriggerdatacondition",
  table: "workflow_engine_alertruletriggerdatacondition",
  silos: ["Region"],
  scope: "Organization",
  fields: [
    ...defaultFields(),
    f.fk("alert_rule_trigger", "sentry.alertruletrigger", { kind: "FlexibleForeignKey" }),
    f.fk("data_condition", "workflow_engine.datacondition", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [],
};

export const workflowModels: ModelDef[] = [
  dataConditionGroup,
  dataCondition,
  dataSource,
  detector,
  workflow,
  dataSourceDetector,
  detectorWorkflow,
  workflowDataConditionGroup,
  workflowGroupStatus,
  alertRuleDetector,
  alertRuleWorkflow,
  alertRuleTriggerDataCondition,
];
