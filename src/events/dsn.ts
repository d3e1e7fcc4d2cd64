/**
 * A project's DSNs, as Sentry shows them: `{protocol}://{public_key}@{host}{path}/{project_id}`
 * (and the legacy form with `:{secret_key}`), for the address `relo serve` answers on.
 */
import { ReloError } from "../backup/errors.js";
import type { Store } from "../store/types.js";
import { Sql } from "./sql.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:9000";

export interface ProjectDsn {
  keyId: number;
  label: string | null;
  active: boolean;
  dsn: string;
  secretDsn: string;
}

export function formatDsn(baseUrl: string, projectId: number, publicKey: string, secretKey?: string): string {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new ReloError(`--url: not a URL: ${baseUrl}`);
  }
  const auth = secretKey ? `${publicKey}:${secretKey}` : publicKey;
  const path = u.pathname.replace(/\/+$/, "");
  return `${u.protocol}//${auth}@${u.host}${path}/${projectId}`;
}

/** Every DSN key of the project `projectSlug` of organization `orgSlug`, oldest first. */
export async function projectDsns(
  store: Store,
  orgSlug: string,
  projectSlug: string,
  baseUrl = DEFAULT_BASE_URL,
): Promise<ProjectDsn[]> {
  const sql = new Sql(store);
  const org = await sql.one<{ id: unknown }>("SELECT id FROM sentry_organization WHERE slug = ?", [orgSlug]);
  if (!org) throw new ReloError(`no organization with slug ${JSON.stringify(orgSlug)}`);
  const project = await sql.one<{ id: unknown }>(
    "SELECT id FROM sentry_project WHERE organization_id = ? AND slug = ?",
    [org.id, projectSlug],
  );
  if (!project) {
    throw new ReloError(
      `organization ${JSON.stringify(orgSlug)} has no project ${JSON.stringify(projectSlug)}`,
    );
  }
  const projectId = Number(project.id);
  const keys = await sql.all<Record<string, unknown>>(
    "SELECT id, label, public_key, secret_key, status FROM sentry_projectkey WHERE project_id = ? ORDER BY id",
    [projectId],
  );
  return keys
    .filter((k) => k.public_key)
    .map((k) => ({
      keyId: Number(k.id),
      label: k.label === null ? null : String(k.label),
      active: Number(k.status) === 0,
      dsn: formatDsn(baseUrl, projectId, String(k.public_key)),
      secretDsn: formatDsn(baseUrl, projectId, String(k.public_key), String(k.secret_key ?? "")),
    }));
}
