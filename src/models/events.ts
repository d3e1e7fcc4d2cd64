/**
 * The models event save writes: issues (groups) and their hashes, releases and what hangs off
 * them, activity and the event payloads (nodestore); the project short-id counter is
 * `sentry.counter` in projects.ts. Field lists follow Sentry's late-2024 models; all are Excluded
 * from relocation, as in Sentry. The `relo.*` models are relo's own tables (the embedded event stream, its consumer
 * offsets and the per-minute counters); Sentry keeps those in Kafka and Redis.
 */
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

/** Sentry's GroupStatus. */
export const GroupStatus = { UNRESOLVED: 0, RESOLVED: 1, IGNORED: 2 } as const;

/** Sentry's GroupSubStatus (the unresolved ones event save sets). */
export const GroupSubStatus = { ESCALATING: 2, ONGOING: 3, REGRESSED: 6, NEW: 7 } as const;

/** Sentry's ActivityType values relo writes. */
export const ActivityType = { SET_REGRESSION: 6, SET_RESOLVED_IN_RELEASE: 13 } as const;

/** Sentry's PriorityLevel. */
export const PriorityLevel = { LOW: 25, MEDIUM: 50, HIGH: 75 } as const;

/** Sentry's LOG_LEVELS_MAP. */
export const LOG_LEVELS: Record<string, number> = { debug: 10, info: 20, warning: 30, error: 40, fatal: 50 };

// src/sentry/models/group.py; `culprit` is stored in column `view`, `data` is a GzippedDictField (JSON here)
export const group: ModelDef = {
  name: "sentry.group",
  table: "sentry_groupedmessage",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.string("logger", 64, { default: "" }),
    f.int("level", { default: 40 }),
    f.text("message"),
    f.string("culprit", 200, { nullable: true, column: "view" }),
    f.int("num_comments", { nullable: true, default: 0 }),
    f.string("platform", 64, { nullable: true }),
    f.int("status", { default: GroupStatus.UNRESOLVED }),
    f.int("substatus", { nullable: true }),
    f.int("times_seen", { default: 1 }),
    f.datetime("last_seen", { default: now }),
    f.datetime("first_seen", { default: now }),
    f.fk("first_release", "sentry.release", { nullable: true, kind: "FlexibleForeignKey" }),
    f.datetime("resolved_at", { nullable: true }),
    f.datetime("active_at", { nullable: true }),
    f.int("time_spent_total", { default: 0 }),
    f.int("time_spent_count", { default: 0 }),
    f.bool("is_public", { nullable: true, default: false }),
    f.json("data", { nullable: true }),
    f.bigint("short_id", { nullable: true }),
    f.int("type", { default: 1 }),
    f.int("priority", { nullable: true }),
    f.datetime("priority_locked_at", { nullable: true }),
    f.float("seer_fixability_score", { nullable: true }),
    f.datetime("seer_autofix_last_triggered", { nullable: true }),
  ],
  uniques: [
    ["id", "project"],
    ["project", "short_id"],
  ],
};

// src/sentry/models/grouptombstone.py
export const groupTombstone: ModelDef = {
  name: "sentry.grouptombstone",
  table: "sentry_grouptombstone",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.bigint("previous_group_id"),
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.int("level", { default: 40 }),
    f.text("message"),
    f.string("culprit", 200, { nullable: true }),
    f.json("data", { nullable: true }),
    f.int("actor_id", { nullable: true }),
  ],
  uniques: [["previous_group_id"]],
};

// src/sentry/models/grouphash.py; a non-null group_tombstone_id discards the events that hash to it
export const groupHash: ModelDef = {
  name: "sentry.grouphash",
  table: "sentry_grouphash",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("project", "sentry.project", { nullable: true, kind: "FlexibleForeignKey" }),
    f.string("hash", 32),
    f.fk("group", "sentry.group", { nullable: true, kind: "FlexibleForeignKey" }),
    f.fk("group_tombstone_id", "sentry.grouptombstone", { nullable: true, kind: "ImplicitForeignKey" }),
    f.int("state", { nullable: true }),
    f.datetime("date_added", { nullable: true, default: now }),
  ],
  uniques: [["hash", "project"]],
};

// src/sentry/models/release.py (DB_VERSION_LENGTH = 250); `authors` is an ArrayField (JSON here)
export const release: ModelDef = {
  name: "sentry.release",
  table: "sentry_release",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.int("status", { nullable: true, default: 0 }),
    f.string("version", 250),
    f.string("ref", 250, { nullable: true }),
    f.string("url", 200, { nullable: true }),
    f.datetime("date_added", { default: now }),
    f.datetime("date_started", { nullable: true }),
    f.datetime("date_released", { nullable: true }),
    f.json("data", { default: () => ({}) }),
    f.int("new_groups", { default: 0 }),
    f.fk("owner_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.int("commit_count", { nullable: true, default: 0 }),
    f.bigint("last_commit_id", { nullable: true }),
    f.json("authors", { nullable: true }),
    f.int("total_deploys", { nullable: true, default: 0 }),
    f.int("last_deploy_id", { nullable: true }),
    f.text("package", { nullable: true }),
    f.bigint("major", { nullable: true }),
    f.bigint("minor", { nullable: true }),
    f.bigint("patch", { nullable: true }),
    f.bigint("revision", { nullable: true }),
    f.text("prerelease", { nullable: true }),
    f.text("build_code", { nullable: true }),
    f.bigint("build_number", { nullable: true }),
    f.text("user_agent", { nullable: true }),
  ],
  uniques: [["organization", "version"]],
};

// src/sentry/models/releases/release_project.py
export const releaseProject: ModelDef = {
  name: "sentry.releaseproject",
  table: "sentry_release_project",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("release", "sentry.release", { kind: "FlexibleForeignKey" }),
    f.int("new_groups", { nullable: true, default: 0 }),
    f.datetime("adopted", { nullable: true }),
    f.datetime("unadopted", { nullable: true }),
    f.datetime("first_seen_transaction", { nullable: true }),
  ],
  uniques: [["project", "release"]],
};

// src/sentry/models/distribution.py (MAX_DISTRIBUTION_NAME_LENGTH = 64)
export const distribution: ModelDef = {
  name: "sentry.distribution",
  table: "sentry_distribution",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("organization_id", "sentry.organization", { kind: "ImplicitForeignKey" }),
    f.fk("release", "sentry.release", { kind: "FlexibleForeignKey" }),
    f.string("name", 64),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [["name", "release"]],
};

// src/sentry/models/groupenvironment.py
export const groupEnvironment: ModelDef = {
  name: "sentry.groupenvironment",
  table: "sentry_groupenvironment",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("group", "sentry.group", { kind: "FlexibleForeignKey" }),
    f.fk("environment", "sentry.environment", { kind: "FlexibleForeignKey" }),
    f.fk("first_release", "sentry.release", { nullable: true, kind: "FlexibleForeignKey" }),
    f.datetime("first_seen", { nullable: true, default: now }),
  ],
  uniques: [["environment", "group"]],
};

// src/sentry/models/grouprelease.py; `environment` is the environment's name
export const groupRelease: ModelDef = {
  name: "sentry.grouprelease",
  table: "sentry_grouprelease",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("project_id", "sentry.project", { kind: "ImplicitForeignKey" }),
    f.fk("group_id", "sentry.group", { kind: "ImplicitForeignKey" }),
    f.fk("release_id", "sentry.release", { kind: "ImplicitForeignKey" }),
    f.string("environment", 64, { default: "" }),
    f.datetime("first_seen", { default: now }),
    f.datetime("last_seen", { default: now }),
  ],
  uniques: [["environment", "group_id", "release_id"]],
};

// src/sentry/models/releaseenvironment.py
export const releaseEnvironment: ModelDef = {
  name: "sentry.releaseenvironment",
  table: "sentry_environmentrelease",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("organization", "sentry.organization", { kind: "FlexibleForeignKey" }),
    f.fk("project_id", "sentry.project", { nullable: true, kind: "ImplicitForeignKey" }),
    f.fk("release", "sentry.release", { kind: "FlexibleForeignKey" }),
    f.fk("environment", "sentry.environment", { kind: "FlexibleForeignKey" }),
    f.datetime("first_seen", { default: now }),
    f.datetime("last_seen", { default: now }),
  ],
  uniques: [["environment", "organization", "release"]],
};

// src/sentry/models/releaseprojectenvironment.py
export const releaseProjectEnvironment: ModelDef = {
  name: "sentry.releaseprojectenvironment",
  table: "sentry_releaseprojectenvironment",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("release", "sentry.release", { kind: "FlexibleForeignKey" }),
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("environment", "sentry.environment", { kind: "FlexibleForeignKey" }),
    f.int("new_issues_count", { default: 0 }),
    f.datetime("first_seen", { default: now }),
    f.datetime("last_seen", { default: now }),
    f.int("last_deploy_id", { nullable: true }),
    f.datetime("adopted", { nullable: true }),
    f.datetime("unadopted", { nullable: true }),
  ],
  uniques: [["environment", "project", "release"]],
};

// src/sentry/models/activity.py; `data` is a GzippedDictField (JSON here)
export const activity: ModelDef = {
  name: "sentry.activity",
  table: "sentry_activity",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("project", "sentry.project", { kind: "FlexibleForeignKey" }),
    f.fk("group", "sentry.group", { nullable: true, kind: "FlexibleForeignKey" }),
    f.int("type"),
    f.string("ident", 64, { nullable: true }),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.datetime("datetime", { default: now }),
    f.json("data", { nullable: true }),
  ],
  uniques: [],
};

/** Sentry's GroupResolution.Type. */
export const ResolutionType = { IN_RELEASE: 0, IN_NEXT_RELEASE: 1 } as const;

// src/sentry/models/groupresolution.py
export const groupResolution: ModelDef = {
  name: "sentry.groupresolution",
  table: "sentry_groupresolution",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.fk("group", "sentry.group", { kind: "FlexibleForeignKey" }),
    f.fk("release", "sentry.release", { kind: "FlexibleForeignKey" }),
    f.string("current_release_version", 250, { nullable: true }),
    f.int("type", { nullable: true }),
    f.int("actor_id", { nullable: true }),
    f.datetime("datetime", { default: now }),
    f.int("status", { default: 0 }),
  ],
  uniques: [["group"]],
};

// src/sentry/nodestore/django/models.py: event payloads by node id (md5 of "project_id:event_id")
export const node: ModelDef = {
  name: "nodestore.node",
  table: "nodestore_node",
  silos: ["Region"],
  scope: "Excluded",
  stringId: 40,
  fields: [f.text("data"), f.datetime("timestamp", { default: now })],
  uniques: [],
};

/**
 * relo's embedded event stream: one row per message, the row id is the offset. `topic` is
 * Sentry's Kafka topic (`events`, `transactions`, `outcomes`), `key` the message key and
 * `headers` the Kafka headers as a JSON object.
 */
export const eventStream: ModelDef = {
  name: "relo.eventstream",
  table: "relo_eventstream",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.string("topic", 64),
    f.string("key", 64, { nullable: true }),
    f.json("headers"),
    f.text("value"),
    f.datetime("date_added", { default: now }),
  ],
  uniques: [],
};

/** The last offset each consumer group has processed, per topic. */
export const eventStreamOffset: ModelDef = {
  name: "relo.eventstreamoffset",
  table: "relo_eventstream_offset",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.string("consumer_group", 200),
    f.string("topic", 64),
    f.bigint("committed_offset"),
    f.datetime("date_updated", { default: now }),
  ],
  uniques: [["consumer_group", "topic"]],
};

/**
 * Per-minute counters (Sentry's TSDB `incr`): `model` is the TSDB model name (`project`,
 * `group`, `release`), `key_id` that row's id, `bucket` the start of the minute.
 */
export const tsdbCounter: ModelDef = {
  name: "relo.tsdbcounter",
  table: "relo_tsdb_counter",
  silos: ["Region"],
  scope: "Excluded",
  fields: [
    f.string("model", 32),
    f.bigint("key_id"),
    f.bigint("environment_id"),
    f.datetime("bucket"),
    f.bigint("value"),
  ],
  uniques: [["bucket", "environment_id", "key_id", "model"]],
};

export const eventModels: ModelDef[] = [
  group,
  groupTombstone,
  groupHash,
  release,
  releaseProject,
  distribution,
  groupEnvironment,
  groupRelease,
  releaseEnvironment,
  releaseProjectEnvironment,
  activity,
  groupResolution,
  node,
  eventStream,
  eventStreamOffset,
  tsdbCounter,
];
