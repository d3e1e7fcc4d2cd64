import http from "node:http";
/**
 * Shortcuts for event tests: a database with imported projects and keys, saving raw events
 * through the real writer, reading back stream messages and payloads, and Redis for the stream
 * tests (unreachable Redis skips outside CI and fails with CI=true, like PostgreSQL).
 */
import { isAbsolute } from "node:path";
import { Redis } from "ioredis";
import { Ingest, type IngestOptions, type SaveOutcome } from "../../src/events/ingest.js";
import { readEvent } from "../../src/events/nodestore.js";
import { normalizeEvent } from "../../src/events/normalize.js";
import { Sql } from "../../src/events/sql.js";
import { readMessages } from "../../src/events/stream.js";
import type { Store } from "../../src/store/types.js";
import { fixture, importFile } from "./import.js";

export interface ProjectKey {
  projectId: number;
  organizationId: number;
  keyId: number;
  publicKey: string;
  secretKey: string;
  slug: string;
  orgSlug: string;
}

/**
 * Imports an export (a fixture by name, fresh-install.json by default, or an absolute path) and
 * returns every project key in the database, oldest first.
 */
export async function importProjects(store: Store, name = "fresh-install.json"): Promise<ProjectKey[]> {
  await importFile(store, isAbsolute(name) ? name : fixture(name), { scope: "Organization" });
  const rows = await new Sql(store).all<Record<string, unknown>>(
    `SELECT k.id, k.project_id, k.public_key, k.secret_key, p.slug, p.organization_id, o.slug AS org_slug
       FROM sentry_projectkey k JOIN sentry_project p ON p.id = k.project_id
       JOIN sentry_organization o ON o.id = p.organization_id ORDER BY k.id`,
  );
  return rows.map((r) => ({
    projectId: Number(r.project_id),
    organizationId: Number(r.organization_id),
    keyId: Number(r.id),
    publicKey: String(r.public_key),
    secretKey: String(r.secret_key),
    slug: String(r.slug),
    orgSlug: String(r.org_slug),
  }));
}

export interface SaveOptions {
  raw?: boolean;
  received?: number;
}

/** Normalizes `raw` and saves it through an Ingest; returns the outcome. */
export async function save(
  ingest: Ingest,
  key: ProjectKey,
  raw: Record<string, unknown>,
  o: SaveOptions = {},
): Promise<SaveOutcome> {
  const received = o.received ?? Date.now() / 1000;
  const data = normalizeEvent(structuredClone(raw), {
    projectId: key.projectId,
    keyId: key.keyId,
    clientIp: "127.0.0.1",
    received,
  });
  const [outcome] = await ingest.submit([
    { projectId: key.projectId, keyId: key.keyId, data, raw: o.raw, startTime: received },
  ]);
  return outcome;
}

export function newIngest(store: Store, o: IngestOptions = {}): Ingest {
  return new Ingest(store, o);
}

/** Stream messages of a topic, values parsed. */
export async function messages(
  store: Store,
  topic: string,
): Promise<{ offset: number; key: string | null; headers: Record<string, string>; value: any }[]> {
  const all = await readMessages(new Sql(store), { after: 0, topics: [topic], limit: 100_000 });
  return all.map((m) => ({ offset: m.offset, key: m.key, headers: m.headers, value: JSON.parse(m.value) }));
}

export function payload(store: Store, projectId: number, eventId: string) {
  return readEvent(new Sql(store), projectId, eventId);
}

/** A hex event id. */
export function eventId(n: number): string {
  return n.toString(16).padStart(32, "0");
}

/** An error event with one exception and an in-app frame. */
export function errorEvent(extra: Record<string, unknown> = {}, type = "ValueError", value = "bad input") {
  return {
    platform: "python",
    exception: {
      values: [
        {
          type,
          value,
          stacktrace: {
            frames: [
              { module: "lib.core", function: "run", filename: "lib/core.py", in_app: false },
              { module: "app.views", function: "handle", filename: "app/views.py", lineno: 10, in_app: true },
            ],
          },
        },
      ],
    },
    ...extra,
  };
}

export const REDIS_URL = process.env.RELO_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisReachable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (err) {
    if (process.env.CI === "true") {
      throw new Error(`CI=true but Redis at ${REDIS_URL} is unreachable: ${(err as Error).message}`);
    }
    console.warn(`Redis at ${REDIS_URL} is unreachable; skipping Redis tests: ${(err as Error).message}`);
    return false;
  } finally {
    redis.disconnect();
  }
}

export const HAS_REDIS = await redisReachable();

let prefixes = 0;

/** A stream key prefix no other test uses. */
export function uniquePrefix(): string {
  return `relo-test:${process.pid}:${Date.now().toString(36)}:${prefixes++}:`;
}

/** Deletes every key under a prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A raw HTTP request: exactly these headers (no Content-Type unless given), this body. */
export function httpRequest(
  url: string,
  body: Buffer | null,
  headers: Record<string, string> = {},
  method = "POST",
): Promise<HttpResponse> {
  return new Promise((done, fail) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        done({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null });
      });
    });
    req.on("error", fail);
    req.end(body ?? undefined);
  });
}
