/**
 * Where an SDK puts its DSN key: the `X-Sentry-Auth` header, `Authorization: Sentry ...`, the
 * `sentry_key` query parameter (browsers, and the Node SDK), or the `dsn` of an envelope header.
 * Messages are those of Sentry's legacy store endpoint.
 */
import type { Sql } from "./sql.js";

export interface Auth {
  publicKey: string;
  secretKey: string | null;
  client: string | null;
  version: string | null;
}

/** The request may not store events; the message is the reason the client gets with a 401. */
export class AuthError extends Error {
  override name = "AuthError";
}

/** Sentry's ProjectKeyStatus.ACTIVE and the `store` role bit of ProjectKey.roles. */
const KEY_ACTIVE = 0;
const ROLE_STORE = 1;

function fromPairs(pairs: Record<string, string>): Auth {
  const publicKey = pairs.key;
  if (!publicKey) throw new AuthError("Missing required attribute in authentication header: sentry_key");
  return {
    publicKey,
    secretKey: pairs.secret || null,
    client: pairs.client || null,
    version: pairs.version || null,
  };
}

/** `Sentry sentry_key=abc, sentry_version=7` as `{key, version}`; null when it is not Sentry auth. */
export function parseAuthHeader(value: string): Record<string, string> | null {
  const m = /^\s*sentry\s+(.*)$/is.exec(value);
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const part of m[1].split(",")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const key = part
      .slice(0, eq)
      .trim()
      .replace(/^sentry_/, "");
    out[key] = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
  }
  return out;
}

export interface AuthSources {
  xSentryAuth?: string;
  authorization?: string;
  query: Record<string, unknown>;
}

/** Auth from headers or query string; null when there is none. Both at once is refused. */
export function authFromRequest(src: AuthSources): Auth | null {
  let header = src.xSentryAuth ? parseAuthHeader(src.xSentryAuth) : null;
  if (!header && src.authorization) header = parseAuthHeader(src.authorization);
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(src.query)) {
    if (k.startsWith("sentry_") && typeof v === "string") query[k.slice("sentry_".length)] = v;
  }
  const hasQuery = "key" in query;
  if (header && hasQuery) throw new AuthError("Multiple authentication payloads were detected.");
  if (header) return fromPairs(header);
  if (hasQuery) return fromPairs(query);
  return null;
}

/** Auth from an envelope header's `dsn`; the DSN's project must be the URL's. */
export function authFromDsn(dsn: unknown, projectId: number): Auth | null {
  if (typeof dsn !== "string" || dsn === "") return null;
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new AuthError("Invalid DSN in the envelope header");
  }
  const dsnProject = url.pathname.split("/").filter(Boolean).pop();
  if (dsnProject !== String(projectId)) throw new AuthError("Two different projects were specified");
  if (!url.username) throw new AuthError("Missing required attribute in authentication header: sentry_key");
  return {
    publicKey: decodeURIComponent(url.username),
    secretKey: url.password ? decodeURIComponent(url.password) : null,
    client: null,
    version: null,
  };
}

export interface ProjectKeyRow {
  id: number;
  projectId: number;
  organizationId: number;
}

/**
 * The active project key `auth` names, which must belong to `projectId` and allow storing
 * events. A secret, when sent, must match.
 */
export async function checkKey(sql: Sql, auth: Auth, projectId: number): Promise<ProjectKeyRow> {
  const row = await sql.one<Record<string, unknown>>(
    `SELECT k.id, k.project_id, k.status, k.roles, k.secret_key, p.organization_id, p.status AS project_status
       FROM sentry_projectkey k JOIN sentry_project p ON p.id = k.project_id
      WHERE k.public_key = ?`,
    [auth.publicKey],
  );
  if (!row) throw new AuthError("Invalid api key");
  if (auth.secretKey !== null && auth.secretKey !== row.secret_key) throw new AuthError("Invalid api key");
  if (Number(row.project_id) !== projectId) throw new AuthError("Two different projects were specified");
  if (Number(row.status) !== KEY_ACTIVE) throw new AuthError("API key is disabled");
  if ((Number(row.roles) & ROLE_STORE) === 0) throw new AuthError("Key does not allow event storage access");
  if (Number(row.project_status) !== 0) throw new AuthError("Project is not active");
  return { id: Number(row.id), projectId, organizationId: Number(row.organization_id) };
}
