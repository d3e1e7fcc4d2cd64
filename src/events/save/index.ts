/**
 * EventManager.save for one normalized event, in Sentry's order (see docs/events.md). Runs inside
 * the caller's transaction; the payload (nodestore) and the stream messages are queued in
 * `ctx.pending` and written by flushWrites() before the transaction commits, payloads first,
 * so either both are stored or neither. Saving the same data again (a batch replayed after a
 * failure) gives the same result: every change it makes to `job.data` is idempotent.
 */

import { categoryOf, insertMessage, Outcome, outcomeMessage } from "../eventstream.js";
import { computeHashes, GROUPING_CONFIG } from "../grouping.js";
import { groupMessage, materialize, searchMessage } from "../metadata.js";
import { compress, nodeId, writeNodes } from "../nodestore.js";
import { type EventData, MAX_TAG_VALUE_LENGTH } from "../normalize.js";
import { appendMessages } from "../stream.js";
import { isoOf, type SaveContext } from "./context.js";
import { getOrCreateEnvironment, groupEnvironment } from "./environment.js";
import { assignToGroup, type GroupInfo, HashDiscarded } from "./group.js";
import {
  countNewIssues,
  getOrCreateDist,
  getOrCreateRelease,
  groupRelease,
  ProjectFlags,
  type Release,
  releaseEnvironment,
  releaseProjectEnvironment,
} from "./release.js";

export { HashDiscarded };

export interface SaveJob {
  projectId: number;
  keyId: number | null;
  /** A normalized event (normalize.ts). */
  data: EventData;
  /** Sentry's `raw`: the stream message is marked skip_consume and first_event is left alone. */
  raw?: boolean;
  /** When ingestion received the event, epoch seconds (outcomes carry it). */
  startTime: number;
  /**
   * What the event costs in memory while it waits, bytes (bounds what waits in memory): the
   * server estimates it from the event's JSON (eventCost in server.ts), not its length alone.
   */
  bytes?: number;
}

export interface SaveResult {
  eventId: string;
  groupId: number | null;
  isNew: boolean;
  isRegression: boolean;
  isNewGroupEnvironment: boolean;
}

export interface Project {
  id: number;
  organizationId: number;
  slug: string;
}

async function loadProject(ctx: SaveContext, projectId: number): Promise<Project> {
  const key = `project:${projectId}`;
  const cached = ctx.cache.get<Project>(key);
  if (cached) return cached;
  const row = await ctx.sql.one<Record<string, unknown>>(
    "SELECT id, organization_id, slug FROM sentry_project WHERE id = ?",
    [projectId],
  );
  if (!row) throw new Error(`project ${projectId} does not exist`);
  const project = { id: projectId, organizationId: Number(row.organization_id), slug: String(row.slug) };
  ctx.cache.set(key, project);
  return project;
}

/** Sentry's pop_tag. */
export function popTag(data: EventData, key: string): void {
  data.tags = (data.tags ?? []).filter((t: [string, string]) => t[0] !== key);
}

/** Sentry's set_tag: replaces every pair with that key; a null value only removes. */
export function setTag(data: EventData, key: string, value: unknown): void {
  popTag(data, key);
  if (value !== null && value !== undefined)
    data.tags.push([key, String(value).slice(0, MAX_TAG_VALUE_LENGTH)]);
}

function getTag(data: EventData, key: string): string | undefined {
  return (data.tags as [string, string][]).find((t) => t[0] === key)?.[1];
}

/** Sentry's _pull_out_data: top-level fields duplicated into tags. */
function pullOutTags(data: EventData) {
  setTag(data, "level", data.level);
  if (data.logger) setTag(data, "logger", data.logger);
  if (data.environment) setTag(data, "environment", data.environment);
  if (data.transaction) setTag(data, "transaction", data.transaction);
}

/** EventUser.tag_value: the first of id, email, username and IP address, prefixed. */
export function userTagValue(user: any): string | null {
  if (!user || typeof user !== "object") return null;
  for (const [key, prefix] of [
    ["id", "id"],
    ["email", "email"],
    ["username", "username"],
    ["ip_address", "ip"],
  ]) {
    const v = user[key];
    if (typeof v === "string" && v !== "") return `${prefix}:${v}`;
  }
  return null;
}

/**
 * Tags derived from interfaces, never replacing tags the event set: the request URL (without
 * query), and name/version of the runtime, os, browser and device contexts.
 */
function interfaceTags(data: EventData) {
  const derived: [string, string][] = [];
  const url = data.request?.url;
  if (typeof url === "string" && url) derived.push(["url", url.split("?")[0].split("#")[0]]);
  const contexts = data.contexts ?? {};
  for (const key of ["runtime", "os", "browser", "device"]) {
    const c = contexts[key];
    if (!c || typeof c !== "object") continue;
    const name = key === "device" ? c.model || c.family : c.name;
    if (typeof name !== "string" || name === "") continue;
    const full = typeof c.version === "string" && c.version ? `${name} ${c.version}` : name;
    derived.push([key, full], [`${key}.name`, name]);
  }
  for (const [k, v] of derived) if (getTag(data, k) === undefined) setTag(data, k, v);
}

/** Release, dist and user tags (save steps 2 and 3, shared by both paths). */
async function releaseAndUser(ctx: SaveContext, project: Project, data: EventData, eventDate: string) {
  let release: Release | null = null;
  if (data.release) {
    release = await getOrCreateRelease(ctx, project, data.release, eventDate);
    popTag(data, "release");
    setTag(data, "sentry:release", release.version);
    if (data.dist) {
      await getOrCreateDist(ctx, release, data.dist, eventDate);
      popTag(data, "dist");
      setTag(data, "sentry:dist", data.dist);
    }
  }
  const user = userTagValue(data.user);
  if (user) {
    popTag(data, "user");
    setTag(data, "sentry:user", user);
  }
  interfaceTags(data);
  return release;
}

/**
 * Freezes the payload (with its stored size, as `_metrics`) and queues its nodestore write;
 * returns its JSON text, which the stream message reuses.
 */
function storePayload(ctx: SaveContext, project: Project, data: EventData, eventDate: string): string {
  data._metrics = { ...(data._metrics ?? {}) };
  data._metrics["bytes.stored.event"] = Buffer.byteLength(JSON.stringify(data));
  data.nodestore_insert = Date.now() / 1000;
  const json = JSON.stringify(data);
  ctx.pending.nodes.push({
    id: nodeId(project.id, data.event_id),
    data: compress(json),
    timestamp: eventDate,
  });
  return json;
}

function accepted(ctx: SaveContext, project: Project, job: SaveJob) {
  ctx.pending.messages.push(
    outcomeMessage({
      organizationId: project.organizationId,
      projectId: project.id,
      keyId: job.keyId,
      outcome: Outcome.ACCEPTED,
      reason: null,
      eventId: job.data.event_id,
      category: categoryOf(job.data.type),
      timestamp: job.startTime,
    }),
  );
}

/** The outcome of an event dropped for its tombstoned hash. */
export async function discarded(ctx: SaveContext, job: SaveJob): Promise<void> {
  const project = await loadProject(ctx, job.projectId);
  ctx.pending.messages.push(
    outcomeMessage({
      organizationId: project.organizationId,
      projectId: project.id,
      keyId: job.keyId,
      outcome: Outcome.FILTERED,
      reason: "discarded-hash",
      eventId: job.data.event_id,
      category: categoryOf(job.data.type),
      timestamp: job.startTime,
    }),
  );
}

async function markFirstEvent(ctx: SaveContext, project: Project, eventDate: string) {
  const key = `firstevent:${project.id}`;
  if (ctx.cache.get(key)) return;
  await ctx.sql.run("UPDATE sentry_project SET first_event = ? WHERE id = ? AND first_event IS NULL", [
    eventDate,
    project.id,
  ]);
  ctx.cache.set(key, true);
}

async function markHasTransactions(ctx: SaveContext, project: Project) {
  const key = `hastransactions:${project.id}`;
  if (ctx.cache.get(key)) return;
  await ctx.sql.run("UPDATE sentry_project SET flags = COALESCE(flags, 0) | ? WHERE id = ?", [
    ProjectFlags.HAS_TRANSACTIONS,
    project.id,
  ]);
  ctx.cache.set(key, true);
}

function pullOut(data: EventData): { eventDate: string; received: number } {
  pullOutTags(data);
  return { eventDate: isoOf(data.timestamp), received: Number(data.received ?? data.timestamp) };
}

/** Sentry's save_error_events. */
async function saveError(ctx: SaveContext, project: Project, job: SaveJob): Promise<SaveResult> {
  const data = job.data;
  const { eventDate, received } = pullOut(data);
  const release = await releaseAndUser(ctx, project, data, eventDate);
  const hashes = computeHashes(data);
  data.hashes = hashes;
  data.grouping_config = GROUPING_CONFIG;
  const m = materialize(data);
  Object.assign(data, m);
  const message = searchMessage(data, m);
  const info = await assignToGroup(
    ctx,
    {
      projectId: project.id,
      platform: data.platform ?? null,
      logger: data.logger ?? "",
      level: data.level,
      message: groupMessage(message),
      isTransaction: false,
      eventDate,
      eventId: data.event_id,
      receivedTimestamp: received,
      materialized: m,
      sdk: data.sdk,
      release,
    },
    hashes,
  );
  const none = {
    eventId: data.event_id,
    groupId: null,
    isNew: false,
    isRegression: false,
    isNewGroupEnvironment: false,
  };
  if (!info) return none;
  const env = await getOrCreateEnvironment(ctx, project, data.environment ?? "");
  info.isNewGroupEnvironment = await groupEnvironment(ctx, info.group.id, env.id, release?.id ?? null);
  if (release) {
    await releaseEnvironment(ctx, release, project.id, env.id, eventDate);
    await releaseProjectEnvironment(ctx, release, project.id, env.id, eventDate);
    await countNewIssues(
      ctx,
      release,
      project.id,
      env.id,
      info.isNew ? 1 : 0,
      info.isNewGroupEnvironment ? 1 : 0,
    );
    await groupRelease(ctx, release, project.id, info.group.id, env.name, eventDate);
  }
  ctx.tsdb.incr("project", project.id, env.id, data.timestamp);
  ctx.tsdb.incr("group", info.group.id, env.id, data.timestamp);
  if (release) ctx.tsdb.incr("release", release.id, env.id, data.timestamp);
  const json = storePayload(ctx, project, data, eventDate);
  if (!job.raw) await markFirstEvent(ctx, project, eventDate);
  ctx.pending.messages.push(
    insertMessage(streamArgs(ctx, project, job, [info], hashes[0], message, eventDate, json)),
  );
  accepted(ctx, project, job);
  return {
    eventId: data.event_id,
    groupId: info.group.id,
    isNew: info.isNew,
    isRegression: info.isRegression,
    isNewGroupEnvironment: info.isNewGroupEnvironment,
  };
}

function streamArgs(
  ctx: SaveContext,
  project: Project,
  job: SaveJob,
  groups: GroupInfo[],
  primaryHash: string | null,
  message: string,
  eventDate: string,
  dataJson: string,
) {
  return {
    data: job.data,
    dataJson,
    projectId: project.id,
    organizationId: project.organizationId,
    groups: groups.map((g) => ({
      id: g.group.id,
      is_new: g.isNew,
      is_regression: g.isRegression,
      is_new_group_environment: g.isNewGroupEnvironment,
    })),
    primaryHash,
    receivedTimestamp: Number(job.data.received ?? job.data.timestamp),
    skipConsume: job.raw ?? false,
    message,
    datetime: eventDate,
    retentionDays: ctx.options.retentionDays,
  };
}

/** Sentry's save_transaction_events: no grouping, issues, regressions or first_event. */
async function saveTransaction(ctx: SaveContext, project: Project, job: SaveJob): Promise<SaveResult> {
  const data = job.data;
  const { eventDate } = pullOut(data);
  const release = await releaseAndUser(ctx, project, data, eventDate);
  const m = materialize(data);
  Object.assign(data, m);
  const env = await getOrCreateEnvironment(ctx, project, data.environment ?? "");
  if (release) {
    await releaseEnvironment(ctx, release, project.id, env.id, eventDate);
    await releaseProjectEnvironment(ctx, release, project.id, env.id, eventDate);
  }
  ctx.tsdb.incr("project", project.id, env.id, data.timestamp);
  if (release) ctx.tsdb.incr("release", release.id, env.id, data.timestamp);
  const json = storePayload(ctx, project, data, eventDate);
  const message = searchMessage(data, m);
  ctx.pending.messages.push(insertMessage(streamArgs(ctx, project, job, [], null, message, eventDate, json)));
  accepted(ctx, project, job);
  if (!job.raw) await markHasTransactions(ctx, project);
  return {
    eventId: data.event_id,
    groupId: null,
    isNew: false,
    isRegression: false,
    isNewGroupEnvironment: false,
  };
}

/** Sentry's generic-event save: release, user, tags, metadata, environment and the payload. */
async function saveGeneric(ctx: SaveContext, project: Project, job: SaveJob): Promise<SaveResult> {
  const data = job.data;
  const { eventDate } = pullOut(data);
  await releaseAndUser(ctx, project, data, eventDate);
  Object.assign(data, materialize(data));
  await getOrCreateEnvironment(ctx, project, data.environment ?? "");
  await storePayload(ctx, project, data, eventDate);
  return {
    eventId: data.event_id,
    groupId: null,
    isNew: false,
    isRegression: false,
    isNewGroupEnvironment: false,
  };
}

/** Saves one normalized event. Throws HashDiscarded when its hash is tombstoned. */
export async function saveEvent(ctx: SaveContext, job: SaveJob): Promise<SaveResult> {
  const project = await loadProject(ctx, job.projectId);
  if (job.data.type === "transaction") return saveTransaction(ctx, project, job);
  if (job.data.type === "generic" || job.data.type === "feedback") return saveGeneric(ctx, project, job);
  return saveError(ctx, project, job);
}

/** Writes what the batch queued: issue changes, payloads, then stream messages, then counters. */
export async function flushWrites(ctx: SaveContext): Promise<void> {
  await ctx.groups.flush(ctx);
  await writeNodes(ctx.sql, ctx.pending.nodes);
  await appendMessages(ctx.sql, ctx.pending.messages);
  await ctx.tsdb.flush(ctx.sql);
  clearWrites(ctx);
}

/** Drops what the batch queued (after a rollback). */
export function clearWrites(ctx: SaveContext): void {
  ctx.pending.nodes = [];
  ctx.pending.messages = [];
  ctx.tsdb.clear();
  ctx.groups.clear();
}
