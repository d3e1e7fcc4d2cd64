/**
 * The embedded event stream: relo_eventstream holds the messages Sentry would produce to Kafka
 * (topics `events`, `transactions`, `outcomes`), the row id being the offset, and
 * relo_eventstream_offset the last offset each consumer group has processed. Messages are
 * written in the save transaction, after the event's payload, so a message never names an event
 * that is not stored. When a Redis stream is configured, this table is the outbox it is fed
 * from (see redis.ts).
 */
import { dateOf, jsonOf, type Sql } from "./sql.js";

export const Topic = { EVENTS: "events", TRANSACTIONS: "transactions", OUTCOMES: "outcomes" } as const;
export type Topic = (typeof Topic)[keyof typeof Topic];
export const TOPICS: Topic[] = [Topic.EVENTS, Topic.TRANSACTIONS, Topic.OUTCOMES];

export interface StreamMessage {
  offset: number;
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  /** The message value as sent: a JSON text. */
  value: string;
  dateAdded: string;
}

export interface NewMessage {
  topic: Topic;
  key: string | null;
  headers: Record<string, string>;
  /** The message value, a JSON text. */
  value: string;
}

const ROWS_PER_INSERT = 500;
/** First key of the advisory lock writers take turns with (the second is the schema's hash). */
const WRITER_LOCK = 7342002;

/**
 * Makes the writers of one database take turns: on PostgreSQL, a transaction-level lock held
 * until commit, taken first in each save transaction (SQLite's write lock already does this).
 * Offsets come from a sequence at insert time; were two writers' transactions to overlap, one
 * could commit a lower offset after a reader had passed a higher one, and a consumer group would
 * skip it for good. Taking it before any row lock also means writers never deadlock each other.
 */
export async function lockWriters(sql: Sql): Promise<void> {
  if (sql.dialect !== "postgres") return;
  await sql.all(`SELECT pg_advisory_xact_lock(${WRITER_LOCK}, hashtext(current_schema()))`);
}

/**
 * Appends messages in order (their offsets ascend in the same order). The transaction must hold
 * lockWriters(), so that offsets commit in order.
 */
export async function appendMessages(sql: Sql, messages: NewMessage[]): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < messages.length; i += ROWS_PER_INSERT) {
    const chunk = messages.slice(i, i + ROWS_PER_INSERT);
    const params: unknown[] = [];
    for (const m of chunk) params.push(m.topic, m.key, JSON.stringify(m.headers), m.value, now);
    await sql.run(
      `INSERT INTO relo_eventstream (topic, key, headers, value, date_added) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
      params,
    );
  }
}

export interface ReadOptions {
  /** Only messages with an offset above this one. */
  after: number;
  /** Only these topics (all when absent). */
  topics?: string[];
  limit: number;
}

export async function readMessages(sql: Sql, o: ReadOptions): Promise<StreamMessage[]> {
  const params: unknown[] = [o.after];
  let where = "id > ?";
  if (o.topics && o.topics.length > 0) {
    where += ` AND topic IN (${o.topics.map(() => "?").join(", ")})`;
    params.push(...o.topics);
  }
  params.push(o.limit);
  const rows = await sql.all<Record<string, unknown>>(
    `SELECT id, topic, key, headers, value, date_added FROM relo_eventstream WHERE ${where} ORDER BY id LIMIT ?`,
    params,
  );
  return rows.map((r) => ({
    offset: Number(r.id),
    topic: String(r.topic),
    key: r.key === null ? null : String(r.key),
    headers: jsonOf<Record<string, string>>(r.headers),
    value: String(r.value),
    dateAdded: dateOf(r.date_added),
  }));
}

/** The last offset a consumer group committed for a topic (0 when none). */
export async function committedOffset(sql: Sql, group: string, topic: string): Promise<number> {
  const row = await sql.one<{ committed_offset: unknown }>(
    "SELECT committed_offset FROM relo_eventstream_offset WHERE consumer_group = ? AND topic = ?",
    [group, topic],
  );
  return row ? Number(row.committed_offset) : 0;
}

export async function commitOffset(sql: Sql, group: string, topic: string, offset: number): Promise<void> {
  await sql.run(
    `INSERT INTO relo_eventstream_offset (consumer_group, topic, committed_offset, date_updated) VALUES (?, ?, ?, ?)
     ON CONFLICT (consumer_group, topic) DO UPDATE SET committed_offset = excluded.committed_offset, date_updated = excluded.date_updated`,
    [group, topic, offset, new Date().toISOString()],
  );
}

/**
 * Deletes the messages at or below `upTo`, except the newest message of the stream: SQLite
 * reuses the highest rowid once it is deleted, and offsets must never go back.
 */
export async function deleteUpTo(sql: Sql, upTo: number): Promise<number> {
  return sql.run(
    "DELETE FROM relo_eventstream WHERE id <= ? AND id < (SELECT MAX(id) FROM relo_eventstream)",
    [upTo],
  );
}

/** Keeps the newest `maxLen` messages of a topic (and always the newest message). */
export async function trimTopic(sql: Sql, topic: string, maxLen: number): Promise<number> {
  const row = await sql.one<{ id: unknown }>(
    "SELECT id FROM relo_eventstream WHERE topic = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
    [topic, maxLen],
  );
  if (!row) return 0;
  return sql.run(
    "DELETE FROM relo_eventstream WHERE topic = ? AND id <= ? AND id < (SELECT MAX(id) FROM relo_eventstream)",
    [topic, Number(row.id)],
  );
}
