/**
 * Assigning an error event to an issue (Sentry's assign_event_to_group / _save_aggregate): its
 * hashes are found or created as GroupHash rows; the first hash attached to a group names the
 * issue, a tombstoned hash discards the event, and no match creates an issue with the project's
 * next short id. An existing issue takes the event's last_seen, level, culprit, message and
 * metadata, counts it, and regresses if it was resolved.
 *
 * Like Sentry's buffered `times_seen` increments, an issue's changes are gathered in memory for
 * the batch (GroupBuffer) and written with one UPDATE for all issues before the batch commits;
 * an issue's row is read (and, on PostgreSQL, locked) once per batch.
 */

import {
  ActivityType,
  GroupStatus,
  GroupSubStatus,
  LOG_LEVELS,
  PriorityLevel,
  ResolutionType,
} from "../../models/events.js";
import { computeHashes } from "../grouping.js";
import type { Materialized } from "../metadata.js";
import { PLACEHOLDER_TITLES } from "../metadata.js";
import type { EventData } from "../normalize.js";
import { dateOf, jsonOf } from "../sql.js";
import type { SaveContext } from "./context.js";
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
  hash: unknown;
  group_id: unknown;
  group_tombstone_id: unknown;
  state: unknown;
}

/** GroupHash.State.LOCKED_IN_MIGRATION: such hashes are never attached to a group. */
const LOCKED_IN_MIGRATION = 1;
/** Sentry's regression window: a second event within it does not regress the issue again. */
const REGRESSION_WINDOW_MS = 5000;

/** How long a hash's issue is remembered; a tombstone or merge done in SQL applies after this. */
const HASH_CACHE_MS = 60_000;

interface CachedHash {
  row: HashRow;
  at: number;
}

async function getOrCreateHash(ctx: SaveContext, projectId: number, hash: string): Promise<HashRow> {
  const cacheKey = `grouphash:${projectId}:${hash}`;
  const cached = ctx.cache.get<CachedHash>(cacheKey);
  if (cached && Date.now() - cached.at < HASH_CACHE_MS) return cached.row;
  const select =
    "SELECT id, hash, group_id, group_tombstone_id, state FROM sentry_grouphash WHERE project_id = ? AND hash = ?";
  let row = await ctx.sql.one<HashRow>(select, [projectId, hash]);
  if (!row) {
    row = await ctx.sql.one<HashRow>(
      `INSERT INTO sentry_grouphash (project_id, hash, date_added) VALUES (?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id, hash, group_id, group_tombstone_id, state`,
      [projectId, hash, new Date().toISOString()],
    );
    row ??= (await ctx.sql.one<HashRow>(select, [projectId, hash]))!;
  }
  if (row.group_id !== null) ctx.cache.set(cacheKey, { row, at: Date.now() });
  return row;
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

async function linkHashes(ctx: SaveContext, projectId: number, hashes: HashRow[], groupId: number) {
  const unlinked = hashes.filter((h) => h.group_id === null && Number(h.state) !== LOCKED_IN_MIGRATION);
  if (unlinked.length === 0) return;
  const ids = unlinked.map((h) => h.id);
  await ctx.sql.run(
    `UPDATE sentry_grouphash SET group_id = ? WHERE id IN (${ids.map(() => "?").join(", ")}) AND group_id IS NULL`,
    [groupId, ...ids],
  );
  for (const h of unlinked) {
    ctx.cache.set(`grouphash:${projectId}:${h.hash}`, { row: { ...h, group_id: groupId }, at: Date.now() });
  }
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

/** Inserts the issue; null when its short id is taken (a "stuck counter"). */
async function insertGroup(ctx: SaveContext, g: GroupInput, shortId: number): Promise<GroupState | null> {
  const priority = initialPriority(g.level);
  const metadata: Record<string, unknown> = { ...g.materialized.metadata, initial_priority: priority };
  if (g.sdk?.name) metadata.sdk = { name: g.sdk.name, name_normalized: g.sdk.name };
  const level = LOG_LEVELS[g.level] ?? LOG_LEVELS.error;
  const data = groupData(g, metadata);
  const row = await ctx.sql.one<{ id: unknown }>(
    `INSERT INTO sentry_groupedmessage (project_id, logger, level, message, view, num_comments, platform, status,
       substatus, times_seen, last_seen, first_seen, first_release_id, active_at, time_spent_total, time_spent_count,
       is_public, data, short_id, type, priority)
     VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?, ?, ?, ?, 0, 0, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING RETURNING id`,
    [
      g.projectId,
      g.logger,
      level,
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
      data,
      shortId,
      priority,
    ],
  );
  if (!row) return null;
  return {
    id: Number(row.id),
    shortId,
    type: 1,
    status: GroupStatus.UNRESOLVED,
    level,
    message: g.message,
    culprit: g.materialized.culprit,
    firstSeen: g.eventDate,
    lastSeen: g.eventDate,
    activeAt: g.eventDate,
    data,
    pending: { times: 0, set: {} },
  };
}

/**
 * Creates the issue. A (project, short_id) collision means the counter is behind the issues
 * (a "stuck counter"): it is moved past the highest short id and the insert tried once more.
 */
async function createGroup(ctx: SaveContext, g: GroupInput): Promise<Group> {
  let state = await insertGroup(ctx, g, await nextShortId(ctx, g.projectId));
  if (!state) {
    const max = await ctx.sql.one<{ m: unknown }>(
      "SELECT MAX(short_id) AS m FROM sentry_groupedmessage WHERE project_id = ?",
      [g.projectId],
    );
    const current = await nextShortId(ctx, g.projectId, 1);
    const retryId = Math.max(current, Number(max?.m ?? 0) + 1);
    if (retryId > current) await nextShortId(ctx, g.projectId, retryId - current);
    state = await insertGroup(ctx, g, retryId);
    if (!state) throw new Error(`short id ${retryId} of project ${g.projectId} is taken`);
  }
  ctx.groups.add(state);
  return { id: state.id, shortId: state.shortId };
}

const ROWS_PER_STATEMENT = 200;
/** One row of the UPDATE's VALUES list; PostgreSQL needs the types spelled out. */
const SQLITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
const PG_ROW =
  "(?::bigint, ?::integer, ?::timestamptz, ?::timestamptz, ?::text, ?::integer, ?::boolean, ?::varchar, ?::text)";

/** An issue as the batch sees it: its row when first read, then every change made since. */
export interface GroupState {
  id: number;
  shortId: number;
  type: number;
  status: number;
  level: number;
  message: string;
  culprit: string | null;
  firstSeen: string;
  lastSeen: string;
  activeAt: string | null;
  data: Record<string, any> | null;
  /** Changes not yet written: events counted, and the columns to set. */
  pending: { times: number; firstSeen?: string; lastSeen?: string; set: Record<string, unknown> };
}

/**
 * The batch's issues. Changes are applied in memory and written by flush(), one UPDATE per
 * issue; monotonic columns (times_seen, first_seen, last_seen) are updated relative to the row,
 * so a concurrent writer's changes are never lost.
 */
export class GroupBuffer {
  private readonly states = new Map<number, GroupState>();

  /** The state, reading (and on PostgreSQL locking) its row the first time. */
  async load(ctx: SaveContext, id: number): Promise<GroupState | null> {
    const known = this.states.get(id);
    if (known) return known;
    await this.read(ctx, [id]);
    return this.states.get(id) ?? null;
  }

  /** Reads the rows of issues the batch is expected to touch, in one query. */
  async prefetch(ctx: SaveContext, ids: Iterable<number>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.states.has(id));
    for (let i = 0; i < missing.length; i += ROWS_PER_STATEMENT) {
      await this.read(ctx, missing.slice(i, i + ROWS_PER_STATEMENT));
    }
  }

  private async read(ctx: SaveContext, ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await ctx.sql.all<Record<string, unknown>>(
      `SELECT id, short_id, type, status, level, message, view, first_seen, last_seen, active_at, data
         FROM sentry_groupedmessage WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id${ctx.sql.forUpdate()}`,
      ids,
    );
    for (const row of rows) {
      this.states.set(Number(row.id), {
        id: Number(row.id),
        shortId: Number(row.short_id),
        type: Number(row.type),
        status: Number(row.status),
        level: Number(row.level),
        message: String(row.message),
        culprit: row.view === null ? null : String(row.view),
        firstSeen: dateOf(row.first_seen),
        lastSeen: dateOf(row.last_seen),
        activeAt: row.active_at === null ? null : dateOf(row.active_at),
        data: jsonOf(row.data),
        pending: { times: 0, set: {} },
      });
    }
  }

  add(state: GroupState): void {
    this.states.set(state.id, state);
  }

  /** Writes every issue's pending changes with one UPDATE (per 200 issues). */
  async flush(ctx: SaveContext): Promise<void> {
    const changed = [...this.states.values()].filter(
      (g) => g.pending.times > 0 || Object.keys(g.pending.set).length > 0,
    );
    for (let i = 0; i < changed.length; i += ROWS_PER_STATEMENT) {
      const chunk = changed.slice(i, i + ROWS_PER_STATEMENT);
      const params: unknown[] = [];
      for (const g of chunk) {
        const p = g.pending;
        params.push(
          g.id,
          p.times,
          p.lastSeen ?? null,
          p.firstSeen ?? null,
          (p.set.message as string | undefined) ?? null,
          (p.set.level as number | undefined) ?? null,
          "view" in p.set,
          (p.set.view as string | null | undefined) ?? null,
          p.set.data ?? null,
        );
      }
      const row = ctx.sql.dialect === "postgres" ? PG_ROW : SQLITE_ROW;
      await ctx.sql.run(
        `WITH v (id, times, last_seen, first_seen, message, level, set_view, view, data) AS (VALUES ${chunk.map(() => row).join(", ")})
         UPDATE sentry_groupedmessage SET
           times_seen = times_seen + v.times,
           last_seen = CASE WHEN v.last_seen IS NOT NULL AND sentry_groupedmessage.last_seen < v.last_seen THEN v.last_seen ELSE sentry_groupedmessage.last_seen END,
           first_seen = CASE WHEN v.first_seen IS NOT NULL AND sentry_groupedmessage.first_seen > v.first_seen THEN v.first_seen ELSE sentry_groupedmessage.first_seen END,
           message = COALESCE(v.message, sentry_groupedmessage.message),
           level = COALESCE(v.level, sentry_groupedmessage.level),
           view = CASE WHEN v.set_view THEN v.view ELSE sentry_groupedmessage.view END,
           data = COALESCE(v.data, sentry_groupedmessage.data)
         FROM v WHERE sentry_groupedmessage.id = v.id`,
        params,
      );
      for (const g of chunk) g.pending = { times: 0, set: {} };
    }
  }

  /** Forgets every issue (their rows are read again), after a rollback. */
  clear(): void {
    this.states.clear();
  }
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

const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * Sentry's _handle_regression: a resolved issue (not held back by a release-based resolution)
 * is reopened as REGRESSED, unless another event already did within the regression window.
 */
async function handleRegression(ctx: SaveContext, g: GroupState, input: GroupInput): Promise<boolean> {
  if (g.status !== GroupStatus.RESOLVED) return false;
  if (await hasResolution(ctx, g.id, input.release)) return false;
  const date = later(input.eventDate, g.lastSeen);
  const threshold = new Date(Date.parse(date) - REGRESSION_WINDOW_MS).toISOString();
  const updated = await ctx.sql.run(
    `UPDATE sentry_groupedmessage SET active_at = ?, last_seen = ?, status = ?, substatus = ?
      WHERE id = ? AND status IN (?, ?) AND (active_at IS NULL OR active_at < ?)`,
    [
      date,
      date,
      GroupStatus.UNRESOLVED,
      GroupSubStatus.REGRESSED,
      g.id,
      GroupStatus.RESOLVED,
      GroupStatus.UNRESOLVED,
      threshold,
    ],
  );
  if (updated === 0) return false;
  g.status = GroupStatus.UNRESOLVED;
  g.activeAt = date;
  g.lastSeen = date;
  if (input.release) await clearResolution(ctx, g.id, input.release);
  await ctx.sql.run(
    "INSERT INTO sentry_activity (project_id, group_id, type, ident, datetime, data) VALUES (?, ?, ?, NULL, ?, ?)",
    [
      input.projectId,
      g.id,
      ActivityType.SET_REGRESSION,
      new Date().toISOString(),
      { version: input.release?.version ?? "", event_id: input.eventId },
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

/** Sentry's _process_existing_aggregate (with its buffered increment); returns whether the issue regressed. */
async function updateExisting(ctx: SaveContext, g: GroupState, input: GroupInput): Promise<boolean> {
  const p = g.pending;
  if (Date.parse(input.eventDate) > Date.parse(g.lastSeen)) {
    g.lastSeen = input.eventDate;
    p.lastSeen = input.eventDate;
  }
  if (Date.parse(input.eventDate) < Date.parse(g.firstSeen)) {
    g.firstSeen = input.eventDate;
    p.firstSeen = input.eventDate;
  }
  if (input.message && input.message !== g.message && !input.isTransaction) {
    g.message = input.message;
    p.set.message = input.message;
  }
  const level = LOG_LEVELS[input.level] ?? LOG_LEVELS.error;
  if (g.level !== level) {
    g.level = level;
    p.set.level = level;
  }
  if (g.culprit !== input.materialized.culprit) {
    g.culprit = input.materialized.culprit;
    p.set.view = input.materialized.culprit;
  }
  g.data = mergeData(g.data, groupData(input, input.materialized.metadata));
  p.set.data = g.data;
  const isRegression = await handleRegression(ctx, g, input);
  p.times += 1;
  return isRegression;
}

/** The issues the hash cache already names for these events (to read their rows at once). */
export function knownGroupIds(ctx: SaveContext, events: { projectId: number; data: EventData }[]): number[] {
  const ids: number[] = [];
  for (const { projectId, data } of events) {
    if (data.type === "transaction" || data.type === "generic" || data.type === "feedback") continue;
    for (const hash of computeHashes(data)) {
      const cached = ctx.cache.get<CachedHash>(`grouphash:${projectId}:${hash}`);
      if (cached && Date.now() - cached.at < HASH_CACHE_MS) ids.push(Number(cached.row.group_id));
    }
  }
  return ids;
}

/**
 * Finds or creates the event's issue. Returns null when the matching issue is not an error
 * issue (a hash shared with another issue type): Sentry then stops saving the event.
 */
export async function assignToGroup(
  ctx: SaveContext,
  input: GroupInput,
  hashes: string[],
): Promise<GroupInfo | null> {
  const rows: HashRow[] = [];
  for (const h of hashes) rows.push(await getOrCreateHash(ctx, input.projectId, h));
  let existing = findExisting(rows);
  let locked = rows;
  if (!existing) {
    // Another writer may have created the issue since: lock the hashes and look again.
    const ids = rows.map((r) => r.id);
    locked = await ctx.sql.all<HashRow>(
      `SELECT id, hash, group_id, group_tombstone_id, state FROM sentry_grouphash WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id${ctx.sql.forUpdate()}`,
      ids,
    );
    existing = findExisting(locked);
    if (!existing) {
      const group = await createGroup(ctx, input);
      await linkHashes(ctx, input.projectId, locked, group.id);
      return { group, isNew: true, isRegression: false, isNewGroupEnvironment: false };
    }
  }
  const state = await ctx.groups.load(ctx, Number(existing.group_id));
  if (state?.type !== 1) return null;
  await linkHashes(ctx, input.projectId, locked, state.id);
  const isRegression = await updateExisting(ctx, state, input);
  return {
    group: { id: state.id, shortId: state.shortId },
    isNew: false,
    isRegression,
    isNewGroupEnvironment: false,
  };
}
