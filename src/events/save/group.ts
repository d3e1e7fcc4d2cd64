/**
 * Assigning an error event to an issue (Sentry's assign_event_to_group / _save_aggregate): its
 * hashes are found or created as GroupHash rows; the first hash attached to a group names the
 * issue, a tombstoned hash discards the event, and no match creates an issue with the project's
 * next short id. An existing issue takes the event's last_seen, level, culprit, message and
 * metadata, counts it, and regresses if it was resolved.
 */

import {
  ActivityType,
  GroupStatus,
  GroupSubStatus,
  LOG_LEVELS,
  PriorityLevel,
  ResolutionType,
} from "../../models/events.js";
import type { Materialized } from "../metadata.js";
import { PLACEHOLDER_TITLES } from "../metadata.js";
import { dateOf, jsonOf } from "../sql.js";
import { isUniqueViolation, type SaveContext } from "./context.js";
import type { Release } from "./release.js";

/** The event matched a tombstoned hash and is dropped (Sentry's HashDiscarded). */
export class HashDiscarded extends Error {
  override name = "HashDiscarded";
  constructor(
    message: string,
    readonly reason: string,
    readonly tombstoneId: number | null = null,
  ) {
    super(message);
  }
}

export interface Group {
  id: number;
  shortId: number;
}

export interface GroupInfo {
  group: Group;
  isNew: boolean;
  isRegression: boolean;
  isNewGroupEnvironment: boolean;
}

/** Everything the event contributes to its issue. */
export interface GroupInput {
  projectId: number;
  platform: string | null;
  logger: string;
  level: string;
  message: string;
  isTransaction: boolean;
  eventDate: string;
  eventId: string;
  receivedTimestamp: number;
  materialized: Materialized;
  sdk: { name?: string } | undefined;
  release: Release | null;
}

interface HashRow {
  id: unknown;
  group_id: unknown;
  group_tombstone_id: unknown;
  state: unknown;
}

/** GroupHash.State.LOCKED_IN_MIGRATION: such hashes are never attached to a group. */
const LOCKED_IN_MIGRATION = 1;
/** Sentry's regression window: a second event within it does not regress the issue again. */
const REGRESSION_WINDOW_MS = 5000;

async function getOrCreateHash(ctx: SaveContext, projectId: number, hash: string): Promise<HashRow> {
  const select =
    "SELECT id, group_id, group_tombstone_id, state FROM sentry_grouphash WHERE project_id = ? AND hash = ?";
  let row = await ctx.sql.one<HashRow>(select, [projectId, hash]);
  if (row) return row;
  row = await ctx.sql.one<HashRow>(
    `INSERT INTO sentry_grouphash (project_id, hash, date_added) VALUES (?, ?, ?)
     ON CONFLICT DO NOTHING RETURNING id, group_id, group_tombstone_id, state`,
    [projectId, hash, new Date().toISOString()],
  );
  return row ?? (await ctx.sql.one<HashRow>(select, [projectId, hash]))!;
}

/** The first hash attached to a group; a tombstone met first discards the event. */
function findExisting(hashes: HashRow[]): HashRow | null {
  for (const h of hashes) {
    if (h.group_id !== null) return h;
    if (h.group_tombstone_id !== null) {
      const id = Number(h.group_tombstone_id);
      throw new HashDiscarded(`Matches group tombstone ${id}`, "discard", id);
    }
  }
  return null;
}

async function linkHashes(ctx: SaveContext, hashes: HashRow[], groupId: number) {
  const ids = hashes
    .filter((h) => h.group_id === null && Number(h.state) !== LOCKED_IN_MIGRATION)
    .map((h) => h.id);
  if (ids.length === 0) return;
  await ctx.sql.run(
    `UPDATE sentry_grouphash SET group_id = ? WHERE id IN (${ids.map(() => "?").join(", ")}) AND group_id IS NULL`,
    [groupId, ...ids],
  );
}

/** Sentry's initial priority: low for info and debug, medium for warnings, high otherwise. */
export function initialPriority(level: string): number {
  if (level === "info" || level === "debug") return PriorityLevel.LOW;
  return level === "warning" ? PriorityLevel.MEDIUM : PriorityLevel.HIGH;
}

function groupData(g: GroupInput, metadata: Record<string, unknown>) {
  const m = g.materialized;
  return {
    type: m.type,
    culprit: m.culprit,
    metadata,
    title: m.title,
    location: m.location,
    last_received: g.receivedTimestamp,
  };
}

async function nextShortId(ctx: SaveContext, projectId: number, delta = 1): Promise<number> {
  const row = await ctx.sql.one<{ value: unknown }>(
    `INSERT INTO sentry_projectcounter (project_id, value) VALUES (?, ?)
     ON CONFLICT (project_id) DO UPDATE SET value = sentry_projectcounter.value + excluded.value RETURNING value`,
    [projectId, delta],
  );
  return Number(row!.value);
}

async function insertGroup(ctx: SaveContext, g: GroupInput, shortId: number): Promise<number> {
  const priority = initialPriority(g.level);
  const metadata: Record<string, unknown> = { ...g.materialized.metadata, initial_priority: priority };
  if (g.sdk?.name) metadata.sdk = { name: g.sdk.name, name_normalized: g.sdk.name };
  const row = await ctx.sql.one<{ id: unknown }>(
    `INSERT INTO sentry_groupedmessage (project_id, logger, level, message, view, num_comments, platform, status,
       substatus, times_seen, last_seen, first_seen, first_release_id, active_at, time_spent_total, time_spent_count,
       is_public, data, short_id, type, priority)
     VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?, ?, ?, ?, 0, 0, ?, ?, ?, 1, ?) RETURNING id`,
    [
      g.projectId,
      g.logger,
      LOG_LEVELS[g.level] ?? LOG_LEVELS.error,
      g.message,
      g.materialized.culprit,
      g.platform,
      GroupStatus.UNRESOLVED,
      GroupSubStatus.NEW,
      g.eventDate,
      g.eventDate,
      g.release?.id ?? null,
      g.eventDate,
      false,
      groupData(g, metadata),
      shortId,
      priority,
    ],
  );
  return Number(row!.id);
}

/**
 * Creates the issue. A (project, short_id) collision means the counter is behind the issues
 * (a "stuck counter"): it is moved past the highest short id and the insert tried once more.
 */
async function createGroup(ctx: SaveContext, g: GroupInput): Promise<Group> {
  const shortId = await nextShortId(ctx, g.projectId);
  try {
    const id = await ctx.sql.store.transaction(() => insertGroup(ctx, g, shortId));
    return { id, shortId };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  const max = await ctx.sql.one<{ m: unknown }>(
    "SELECT MAX(short_id) AS m FROM sentry_groupedmessage WHERE project_id = ?",
    [g.projectId],
  );
  const current = await nextShortId(ctx, g.projectId, 1);
  const retryId = Math.max(current, Number(max?.m ?? 0) + 1);
  if (retryId > current) await nextShortId(ctx, g.projectId, retryId - current);
  const id = await insertGroup(ctx, g, retryId);
  return { id, shortId: retryId };
}

interface GroupRow {
  id: unknown;
  short_id: unknown;
  type: unknown;
  status: unknown;
  level: unknown;
  message: unknown;
  view: unknown;
  first_seen: unknown;
  last_seen: unknown;
  active_at: unknown;
  data: unknown;
}

/** Sentry's GroupResolution.has_resolution, comparing releases by date (not by semver). */
async function hasResolution(ctx: SaveContext, groupId: number, release: Release | null): Promise<boolean> {
  const res = await ctx.sql.one<Record<string, unknown>>(
    `SELECT r.type, r.release_id, r.current_release_version, rel.date_added
       FROM sentry_groupresolution r JOIN sentry_release rel ON rel.id = r.release_id WHERE r.group_id = ?`,
    [groupId],
  );
  if (!res) return false;
  if (!release) return true;
  const releaseDate = Date.parse(release.dateAdded);
  if (res.current_release_version) {
    const current = await ctx.sql.one<{ id: unknown; date_added: unknown }>(
      "SELECT id, date_added FROM sentry_release WHERE organization_id = ? AND version = ?",
      [release.organizationId, res.current_release_version],
    );
    if (current)
      return Number(current.id) === release.id || Date.parse(dateOf(current.date_added)) > releaseDate;
  }
  const resDate = Date.parse(dateOf(res.date_added));
  if (res.type === null || Number(res.type) === ResolutionType.IN_NEXT_RELEASE) {
    return Number(res.release_id) === release.id || resDate > releaseDate;
  }
  if (Number(res.release_id) === release.id) return false;
  return resDate >= releaseDate;
}

/**
 * Sentry's _handle_regression: a resolved issue (not held back by a release-based resolution)
 * is reopened as REGRESSED, unless another event already did within the regression window.
 */
async function handleRegression(ctx: SaveContext, row: GroupRow, g: GroupInput): Promise<boolean> {
  if (Number(row.status) !== GroupStatus.RESOLVED) return false;
  const groupId = Number(row.id);
  if (await hasResolution(ctx, groupId, g.release)) return false;
  const date = new Date(Math.max(Date.parse(g.eventDate), Date.parse(dateOf(row.last_seen)))).toISOString();
  const threshold = new Date(Date.parse(date) - REGRESSION_WINDOW_MS).toISOString();
  const updated = await ctx.sql.run(
    `UPDATE sentry_groupedmessage SET active_at = ?, last_seen = ?, status = ?, substatus = ?
      WHERE id = ? AND status IN (?, ?) AND (active_at IS NULL OR active_at < ?)`,
    [
      date,
      date,
      GroupStatus.UNRESOLVED,
      GroupSubStatus.REGRESSED,
      groupId,
      GroupStatus.RESOLVED,
      GroupStatus.UNRESOLVED,
      threshold,
    ],
  );
  if (updated === 0) return false;
  if (g.release) await clearResolution(ctx, groupId, g.release);
  await ctx.sql.run(
    "INSERT INTO sentry_activity (project_id, group_id, type, ident, datetime, data) VALUES (?, ?, ?, NULL, ?, ?)",
    [
      g.projectId,
      groupId,
      ActivityType.SET_REGRESSION,
      new Date().toISOString(),
      { version: g.release?.version ?? "", event_id: g.eventId },
    ],
  );
  return true;
}

/**
 * A regression ends the release resolution; a "resolved in the next release" activity
 * (empty version) learns the release the issue came back in.
 */
async function clearResolution(ctx: SaveContext, groupId: number, release: Release) {
  const res = await ctx.sql.one<{ id: unknown }>("SELECT id FROM sentry_groupresolution WHERE group_id = ?", [
    groupId,
  ]);
  if (!res) return;
  const deleted = await ctx.sql.run("DELETE FROM sentry_groupresolution WHERE id = ?", [res.id]);
  if (deleted === 0) return;
  const act = await ctx.sql.one<{ id: unknown; data: unknown }>(
    "SELECT id, data FROM sentry_activity WHERE group_id = ? AND type = ? AND ident = ? ORDER BY datetime DESC LIMIT 1",
    [groupId, ActivityType.SET_RESOLVED_IN_RELEASE, String(res.id)],
  );
  const data = jsonOf<Record<string, unknown>>(act?.data) ?? {};
  if (act && (data.version === "" || data.version === undefined)) {
    await ctx.sql.run("UPDATE sentry_activity SET data = ? WHERE id = ?", [
      { ...data, version: release.version },
      act.id,
    ]);
  }
}

/** Incoming metadata wins, except that a real title is not replaced by a placeholder. */
function mergeData(existing: Record<string, any> | null, incoming: Record<string, any>) {
  const old = existing ?? {};
  const merged: Record<string, any> = {
    ...old,
    ...incoming,
    metadata: { ...(old.metadata ?? {}), ...incoming.metadata },
  };
  const oldTitle = old.title;
  if (PLACEHOLDER_TITLES.has(incoming.title) && oldTitle && !PLACEHOLDER_TITLES.has(oldTitle)) {
    merged.title = oldTitle;
    if (old.metadata?.title !== undefined) merged.metadata.title = old.metadata.title;
  }
  return merged;
}

/** Sentry's _process_existing_aggregate; returns whether the issue regressed. */
async function updateExisting(ctx: SaveContext, row: GroupRow, g: GroupInput): Promise<boolean> {
  const sets = [
    "times_seen = times_seen + 1",
    "last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END",
    "first_seen = CASE WHEN first_seen > ? THEN ? ELSE first_seen END",
  ];
  const params: unknown[] = [g.eventDate, g.eventDate, g.eventDate, g.eventDate];
  if (g.message && g.message !== row.message && !g.isTransaction) {
    sets.push("message = ?");
    params.push(g.message);
  }
  const level = LOG_LEVELS[g.level] ?? LOG_LEVELS.error;
  if (Number(row.level) !== level) {
    sets.push("level = ?");
    params.push(level);
  }
  if (row.view !== g.materialized.culprit) {
    sets.push("view = ?");
    params.push(g.materialized.culprit);
  }
  sets.push("data = ?");
  params.push(mergeData(jsonOf(row.data), groupData(g, g.materialized.metadata)));
  const isRegression = await handleRegression(ctx, row, g);
  await ctx.sql.run(`UPDATE sentry_groupedmessage SET ${sets.join(", ")} WHERE id = ?`, [...params, row.id]);
  return isRegression;
}

/**
 * Finds or creates the event's issue. Returns null when the matching issue is not an error
 * issue (a hash shared with another issue type): Sentry then stops saving the event.
 */
export async function assignToGroup(
  ctx: SaveContext,
  g: GroupInput,
  hashes: string[],
): Promise<GroupInfo | null> {
  const rows: HashRow[] = [];
  for (const h of hashes) rows.push(await getOrCreateHash(ctx, g.projectId, h));
  let existing = findExisting(rows);
  let locked = rows;
  if (!existing) {
    // Another writer may have created the issue since: lock the hashes and look again.
    const ids = rows.map((r) => r.id);
    locked = await ctx.sql.all<HashRow>(
      `SELECT id, group_id, group_tombstone_id, state FROM sentry_grouphash WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id${ctx.sql.forUpdate()}`,
      ids,
    );
    existing = findExisting(locked);
    if (!existing) {
      const group = await createGroup(ctx, g);
      await linkHashes(ctx, locked, group.id);
      return { group, isNew: true, isRegression: false, isNewGroupEnvironment: false };
    }
  }
  const row = await ctx.sql.one<GroupRow>(
    `SELECT id, short_id, type, status, level, message, view, first_seen, last_seen, active_at, data
       FROM sentry_groupedmessage WHERE id = ?${ctx.sql.forUpdate()}`,
    [existing.group_id],
  );
  if (!row || Number(row.type) !== 1) return null;
  await linkHashes(ctx, locked, Number(row.id));
  const isRegression = await updateExisting(ctx, row, g);
  return {
    group: { id: Number(row.id), shortId: Number(row.short_id) },
    isNew: false,
    isRegression,
    isNewGroupEnvironment: false,
  };
}
