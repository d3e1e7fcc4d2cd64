/**
 * Environments (Sentry's Environment.get_or_create: organization-wide by name, then linked to
 * the project) and the first time an issue is seen in one (GroupEnvironment).
 */
import { getOrCreate, type SaveContext } from "./context.js";

export interface Environment {
  id: number;
  name: string;
}

export async function getOrCreateEnvironment(
  ctx: SaveContext,
  project: { id: number; organizationId: number },
  name: string,
): Promise<Environment> {
  const { row } = await getOrCreate<{ id: unknown }>(
    ctx,
    `environment:${project.organizationId}:${name}`,
    [
      "SELECT id FROM sentry_environment WHERE organization_id = ? AND name = ?",
      [project.organizationId, name],
    ],
    [
      "INSERT INTO sentry_environment (organization_id, name, date_added) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
      [project.organizationId, name, new Date().toISOString()],
    ],
  );
  const env = { id: Number(row.id), name };
  await getOrCreate(
    ctx,
    `environmentproject:${project.id}:${env.id}`,
    [
      "SELECT id FROM sentry_environmentproject WHERE project_id = ? AND environment_id = ?",
      [project.id, env.id],
    ],
    [
      "INSERT INTO sentry_environmentproject (project_id, environment_id) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id",
      [project.id, env.id],
    ],
  );
  return env;
}

/** GroupEnvironment.get_or_create; true when this is the first event in the environment. */
export async function groupEnvironment(
  ctx: SaveContext,
  groupId: number,
  environmentId: number,
  firstReleaseId: number | null,
): Promise<boolean> {
  const { created } = await getOrCreate(
    ctx,
    `groupenv:${groupId}:${environmentId}`,
    [
      "SELECT id FROM sentry_groupenvironment WHERE group_id = ? AND environment_id = ?",
      [groupId, environmentId],
    ],
    [
      `INSERT INTO sentry_groupenvironment (group_id, environment_id, first_release_id, first_seen)
       VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
      [groupId, environmentId, firstReleaseId, new Date().toISOString()],
    ],
  );
  return created;
}
