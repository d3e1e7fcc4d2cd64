/**
 * Releases and the rows that tie them to projects, environments and issues, created the way
 * Sentry's Release.get_or_create, add_dist, ReleaseEnvironment, ReleaseProjectEnvironment and
 * GroupRelease do: found or created, with `last_seen` moved forward at most once a minute.
 */
import { dateOf } from "../sql.js";
import { getOrCreate, type SaveContext } from "./context.js";

export interface Release {
  id: number;
  version: string;
  organizationId: number;
  dateAdded: string;
}

/** Sentry's project flag bits (Project.flags). */
export const ProjectFlags = { HAS_RELEASES: 1, HAS_TRANSACTIONS: 4 } as const;

/** Sentry's try_bump_last_seen: last_seen moves only when it is a minute or more behind. */
const LAST_SEEN_STEP_MS = 60_000;

interface SemverColumns {
  package: string;
  major: number;
  minor: number;
  patch: number;
  revision: number;
  prerelease: string;
  build_code: string | null;
  build_number: number | null;
}

const SEMVER = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/** The semver columns Sentry fills for `package@major.minor.patch.revision-pre+build` versions. */
export function semverColumns(version: string): SemverColumns | null {
  const at = version.indexOf("@");
  if (at <= 0) return null;
  const m = SEMVER.exec(version.slice(at + 1));
  if (!m) return null;
  const nums = [m[1], m[2], m[3], m[4]].map((n) => Number(n ?? 0));
  if (nums.some((n) => !Number.isSafeInteger(n))) return null;
  const build = m[6] ?? null;
  const buildNumber = build !== null && /^\d{1,15}$/.test(build) ? Number(build) : null;
  return {
    package: version.slice(0, at),
    major: nums[0],
    minor: nums[1],
    patch: nums[2],
    revision: nums[3],
    prerelease: m[5] ?? "",
    build_code: build,
    build_number: buildNumber,
  };
}

interface ReleaseRow {
  id: unknown;
  date_added: unknown;
}

/** Release.get_or_create: the organization's release of that version, linked to the project. */
export async function getOrCreateRelease(
  ctx: SaveContext,
  project: { id: number; organizationId: number },
  version: string,
  eventDate: string,
): Promise<Release> {
  const s = semverColumns(version);
  const { row } = await getOrCreate<ReleaseRow>(
    ctx,
    `release:${project.organizationId}:${version}`,
    [
      "SELECT id, date_added FROM sentry_release WHERE organization_id = ? AND version = ?",
      [project.organizationId, version],
    ],
    [
      `INSERT INTO sentry_release (organization_id, status, version, date_added, data, new_groups, commit_count,
         total_deploys, package, major, minor, patch, revision, prerelease, build_code, build_number)
       VALUES (?, 0, ?, ?, '{}', 0, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id, date_added`,
      [
        project.organizationId,
        version,
        eventDate,
        s?.package ?? null,
        s?.major ?? null,
        s?.minor ?? null,
        s?.patch ?? null,
        s?.revision ?? null,
        s?.prerelease ?? null,
        s?.build_code ?? null,
        s?.build_number ?? null,
      ],
    ],
  );
  const release: Release = {
    id: Number(row.id),
    version,
    organizationId: project.organizationId,
    dateAdded: dateOf(row.date_added),
  };
  await addProject(ctx, release, project.id);
  return release;
}

/** Release.add_project: links the release to the project (and flags the project has_releases). */
async function addProject(ctx: SaveContext, release: Release, projectId: number): Promise<void> {
  const { created } = await getOrCreate(
    ctx,
    `releaseproject:${projectId}:${release.id}`,
    [
      "SELECT id FROM sentry_release_project WHERE project_id = ? AND release_id = ?",
      [projectId, release.id],
    ],
    [
      "INSERT INTO sentry_release_project (project_id, release_id, new_groups) VALUES (?, ?, 0) ON CONFLICT DO NOTHING RETURNING id",
      [projectId, release.id],
    ],
  );
  if (created) {
    await ctx.sql.run("UPDATE sentry_project SET flags = COALESCE(flags, 0) | ? WHERE id = ?", [
      ProjectFlags.HAS_RELEASES,
      projectId,
    ]);
  }
}

/** Release.add_dist. */
export async function getOrCreateDist(ctx: SaveContext, release: Release, name: string, eventDate: string) {
  await getOrCreate(
    ctx,
    `dist:${release.id}:${name}`,
    ["SELECT id FROM sentry_distribution WHERE release_id = ? AND name = ?", [release.id, name]],
    [
      "INSERT INTO sentry_distribution (organization_id, release_id, name, date_added) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
      [release.organizationId, release.id, name, eventDate],
    ],
  );
}

interface SeenRow {
  id: unknown;
  last_seen: unknown;
}

/** Moves a row's last_seen to `date` when it is a minute or more behind, as Sentry does. */
async function bumpLastSeen(ctx: SaveContext, table: string, cacheKey: string, row: SeenRow, date: string) {
  if (Date.parse(date) - Date.parse(dateOf(row.last_seen)) < LAST_SEEN_STEP_MS) return;
  await ctx.sql.run(`UPDATE ${table} SET last_seen = ? WHERE id = ? AND last_seen < ?`, [date, row.id, date]);
  ctx.cache.set(cacheKey, { ...row, last_seen: date });
}

/** ReleaseEnvironment.get_or_create. */
export async function releaseEnvironment(
  ctx: SaveContext,
  release: Release,
  projectId: number,
  environmentId: number,
  date: string,
) {
  const key = `releaseenv:${release.organizationId}:${release.id}:${environmentId}`;
  const { row, created } = await getOrCreate<SeenRow>(
    ctx,
    key,
    [
      "SELECT id, last_seen FROM sentry_environmentrelease WHERE organization_id = ? AND release_id = ? AND environment_id = ?",
      [release.organizationId, release.id, environmentId],
    ],
    [
      `INSERT INTO sentry_environmentrelease (organization_id, project_id, release_id, environment_id, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id, last_seen`,
      [release.organizationId, projectId, release.id, environmentId, date, date],
    ],
  );
  if (!created) await bumpLastSeen(ctx, "sentry_environmentrelease", key, row, date);
}

/** ReleaseProjectEnvironment.get_or_create. */
export async function releaseProjectEnvironment(
  ctx: SaveContext,
  release: Release,
  projectId: number,
  environmentId: number,
  date: string,
) {
  const key = `rpe:${release.id}:${projectId}:${environmentId}`;
  const { row, created } = await getOrCreate<SeenRow>(
    ctx,
    key,
    [
      "SELECT id, last_seen FROM sentry_releaseprojectenvironment WHERE release_id = ? AND project_id = ? AND environment_id = ?",
      [release.id, projectId, environmentId],
    ],
    [
      `INSERT INTO sentry_releaseprojectenvironment (release_id, project_id, environment_id, new_issues_count, first_seen, last_seen)
       VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING RETURNING id, last_seen`,
      [release.id, projectId, environmentId, date, date],
    ],
  );
  if (!created) await bumpLastSeen(ctx, "sentry_releaseprojectenvironment", key, row, date);
}

/** The release counters Sentry buffers: new issues per release and per release environment. */
export async function countNewIssues(
  ctx: SaveContext,
  release: Release,
  projectId: number,
  environmentId: number,
  newGroups: number,
  newGroupEnvironments: number,
) {
  if (newGroups > 0) {
    await ctx.sql.run(
      "UPDATE sentry_release_project SET new_groups = COALESCE(new_groups, 0) + ? WHERE project_id = ? AND release_id = ?",
      [newGroups, projectId, release.id],
    );
  }
  if (newGroupEnvironments > 0) {
    await ctx.sql.run(
      "UPDATE sentry_releaseprojectenvironment SET new_issues_count = new_issues_count + ? WHERE project_id = ? AND release_id = ? AND environment_id = ?",
      [newGroupEnvironments, projectId, release.id, environmentId],
    );
  }
}

/** GroupRelease.get_or_create; returns the GroupRelease id. */
export async function groupRelease(
  ctx: SaveContext,
  release: Release,
  projectId: number,
  groupId: number,
  environment: string,
  date: string,
): Promise<number> {
  const key = `grouprelease:${groupId}:${release.id}:${environment}`;
  const { row, created } = await getOrCreate<SeenRow>(
    ctx,
    key,
    [
      "SELECT id, last_seen FROM sentry_grouprelease WHERE group_id = ? AND release_id = ? AND environment = ?",
      [groupId, release.id, environment],
    ],
    [
      `INSERT INTO sentry_grouprelease (project_id, group_id, release_id, environment, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id, last_seen`,
      [projectId, groupId, release.id, environment, date, date],
    ],
  );
  if (!created) await bumpLastSeen(ctx, "sentry_grouprelease", key, row, date);
  return Number(row.id);
}
