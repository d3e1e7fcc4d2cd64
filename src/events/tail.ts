/**
 * Reading the event stream (`relo events tail`): from the embedded table, resuming from a
 * consumer group's committed offsets, or from Redis Streams through a consumer group
 * (XREADGROUP, XACK, and XAUTOCLAIM to take over what a dead consumer left pending). Each
 * message is handed over as a plain object with its value parsed.
 */
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Store } from "../store/types.js";
import { connectRedis, ensureGroup, type RedisStreamConfig, streamKey } from "./redis.js";
import { Sql } from "./sql.js";
import { commitOffset, committedOffset, readMessages, type StreamMessage } from "./stream.js";

export interface TailedMessage {
  topic: string;
  /** The embedded table's offset. */
  offset: number;
  /** The Redis stream entry id, when read from Redis. */
  id?: string;
  key: string | null;
  headers: Record<string, string>;
  value: unknown;
}

export interface TailOptions {
  topics: string[];
  /** Resume from and commit to this consumer group. */
  group?: string;
  /** Keep waiting for new messages until `signal` aborts. */
  follow?: boolean;
  /** Stop after this many messages. */
  limit?: number;
  signal?: AbortSignal;
  /** How long to wait between polls (embedded) or per blocking read (Redis), ms. */
  pollMs?: number;
  /** Redis: take over messages pending this long with another consumer (default 60 s). */
  claimIdleMs?: number;
}

const CHUNK = 500;
/** A pending Redis message idle this long belongs to a consumer presumed dead. */
const CLAIM_IDLE_MS = 60_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function fromTable(m: StreamMessage): TailedMessage {
  return { topic: m.topic, offset: m.offset, key: m.key, headers: m.headers, value: JSON.parse(m.value) };
}

/** Reads the embedded stream; returns how many messages were handed to `write`. */
export async function tailTable(
  store: Store,
  o: TailOptions,
  write: (m: TailedMessage) => void | Promise<void>,
): Promise<number> {
  const sql = new Sql(store);
  const committed = new Map<string, number>();
  for (const t of o.topics) committed.set(t, o.group ? await committedOffset(sql, o.group, t) : 0);
  let after = Math.min(...committed.values());
  let n = 0;
  while (!o.signal?.aborted) {
    const limit = o.limit === undefined ? CHUNK : Math.min(CHUNK, o.limit - n);
    const messages = await readMessages(sql, { after, topics: o.topics, limit });
    const fresh = messages.filter((m) => m.offset > (committed.get(m.topic) ?? 0));
    for (const m of fresh) await write(fromTable(m));
    n += fresh.length;
    if (messages.length > 0) after = messages[messages.length - 1].offset;
    if (o.group && fresh.length > 0) {
      const last = new Map<string, number>();
      for (const m of fresh) last.set(m.topic, m.offset);
      await store.transaction(async () => {
        for (const [topic, offset] of last) {
          await commitOffset(sql, o.group!, topic, offset);
          committed.set(topic, offset);
        }
      });
    }
    if (o.limit !== undefined && n >= o.limit) break;
    if (messages.length === 0) {
      if (!o.follow) break;
      await sleep(o.pollMs ?? 500, o.signal);
    }
  }
  return n;
}

type Entry = [id: string, fields: string[]];

function fromRedis(topic: string, [id, fields]: Entry): TailedMessage {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return {
    topic,
    offset: Number(f.offset),
    id,
    key: f.key ? f.key : null,
    headers: f.headers ? JSON.parse(f.headers) : {},
    value: JSON.parse(f.value),
  };
}

export function defaultConsumer(): string {
  return `relo-${hostname()}-${process.pid}`;
}

/** Reads Redis streams through a consumer group; returns how many messages were handed over. */
export async function tailRedis(
  cfg: RedisStreamConfig,
  o: TailOptions & { consumer?: string },
  write: (m: TailedMessage) => void | Promise<void>,
): Promise<number> {
  const redis = await connectRedis(cfg);
  const group = o.group ?? cfg.groups[0];
  const consumer = o.consumer ?? defaultConsumer();
  const topicOf = new Map(o.topics.map((t) => [streamKey(cfg, t), t]));
  const keys = [...topicOf.keys()];
  let n = 0;
  const left = () => (o.limit === undefined ? CHUNK : Math.min(CHUNK, o.limit - n));
  const deliver = async (key: string, entries: Entry[]) => {
    for (const e of entries) {
      if (o.limit !== undefined && n >= o.limit) return;
      await write(fromRedis(topicOf.get(key)!, e));
      await redis.xack(key, group, e[0]);
      n++;
    }
  };
  try {
    for (const key of keys) await ensureGroup(redis, key, group);
    // Our own deliveries never acknowledged, then those of consumers gone quiet.
    while (left() > 0 && (await readGroup(redis, group, consumer, keys, "0", left(), null, deliver)) > 0) {}
    for (const key of keys) {
      let cursor = "0-0";
      if (left() <= 0) break;
      do {
        const claimed = (await redis.xautoclaim(
          key,
          group,
          consumer,
          o.claimIdleMs ?? CLAIM_IDLE_MS,
          cursor,
          "COUNT",
          left(),
        )) as [string, Entry[]];
        cursor = claimed[0];
        await deliver(key, claimed[1] ?? []);
      } while (cursor !== "0-0" && left() > 0);
    }
    while (!o.signal?.aborted && (o.limit === undefined || n < o.limit)) {
      const got = await readGroup(
        redis,
        group,
        consumer,
        keys,
        ">",
        left(),
        o.follow ? (o.pollMs ?? 1000) : null,
        deliver,
      );
      if (got === 0 && !o.follow) break;
    }
  } finally {
    redis.disconnect();
  }
  return n;
}

async function readGroup(
  redis: Redis,
  group: string,
  consumer: string,
  keys: string[],
  from: string,
  count: number,
  blockMs: number | null,
  deliver: (key: string, entries: Entry[]) => Promise<void>,
): Promise<number> {
  if (count <= 0) return 0;
  const args: (string | number)[] = ["GROUP", group, consumer, "COUNT", count];
  if (blockMs !== null) args.push("BLOCK", blockMs);
  args.push("STREAMS", ...keys, ...keys.map(() => from));
  const res = (await (redis as any).xreadgroup(...args)) as [string, Entry[]][] | null;
  let got = 0;
  for (const [key, entries] of res ?? []) {
    await deliver(key, entries);
    got += entries.length;
  }
  return got;
}
