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

export function compress(data: unknown): string {
  return deflateSync(JSON.stringify(data)).toString("base64");
}

export function decompress(text: string): EventData {
  return JSON.parse(inflateSync(Buffer.from(text, "base64")).toString("utf8"));
}

export async function writeNode(sql: Sql, id: string, data: EventData, timestamp: string): Promise<void> {
  await sql.run(
    `INSERT INTO nodestore_node (id, data, timestamp) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET data = excluded.data, timestamp = excluded.timestamp`,
    [id, compress(data), timestamp],
  );
}

/** The stored payload of an event, or null. */
export async function readEvent(sql: Sql, projectId: number, eventId: string): Promise<EventData | null> {
  const row = await sql.one<{ data: string }>("SELECT data FROM nodestore_node WHERE id = ?", [
    nodeId(projectId, eventId),
  ]);
  return row ? decompress(row.data) : null;
}
