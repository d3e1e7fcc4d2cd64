/**
 * Event payloads in nodestore_node, as Sentry's Django nodestore keeps them: the node id is the
 * md5 of `project_id:event_id`, the data is the event JSON, zlib-compressed and base64-encoded.
 * Saving an event id again replaces the payload (the latest event wins, as in Sentry's storage).
 */
import { createHash } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import type { EventData } from "./normalize.js";
import type { Sql } from "./sql.js";

export function nodeId(projectId: number, eventId: string): string {
  return createHash("md5").update(`${projectId}:${eventId}`).digest("hex");
}

/** A payload as Sentry's Django nodestore stores it; `json` is the payload's JSON text. */
export function compress(json: string): string {
  return deflateSync(json).toString("base64");
}

export function decompress(text: string): EventData {
  return JSON.parse(inflateSync(Buffer.from(text, "base64")).toString("utf8"));
}

export interface NodeRow {
  id: string;
  /** The compressed payload (compress()). */
  data: string;
  timestamp: string;
}

const ROWS_PER_INSERT = 500;

/** Writes payloads; a node id given twice keeps the later payload. */
export async function writeNodes(sql: Sql, rows: NodeRow[]): Promise<void> {
  const latest = [...new Map(rows.map((r) => [r.id, r])).values()];
  for (let i = 0; i < latest.length; i += ROWS_PER_INSERT) {
    const chunk = latest.slice(i, i + ROWS_PER_INSERT);
    await sql.run(
      `INSERT INTO nodestore_node (id, data, timestamp) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}
       ON CONFLICT (id) DO UPDATE SET data = excluded.data, timestamp = excluded.timestamp`,
      chunk.flatMap((r) => [r.id, r.data, r.timestamp]),
    );
  }
}

/** The stored payload of an event, or null. */
export async function readEvent(sql: Sql, projectId: number, eventId: string): Promise<EventData | null> {
  const row = await sql.one<{ data: string }>("SELECT data FROM nodestore_node WHERE id = ?", [
    nodeId(projectId, eventId),
  ]);
  return row ? decompress(row.data) : null;
}
