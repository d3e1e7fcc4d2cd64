/**
 * Reading the event stream (`relo events tail`): from the embedded table, resuming from a
 * consumer group's committed offsets, or from Redis Streams through a consumer group
 * (XREADGROUP, XACK, and XAUTOCLAIM to take over what a dead consumer left pending). Each
 * message is handed over as a plain object with its value parsed.
 */
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { UsageError } from "../backup/errors.js";
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
/** The idle time given to messages read but not printed, past any claim threshold (30 days). */
const GIVEN_BACK_IDLE_MS = 30 * 24 * 3600 * 1000;
/** relo_eventstream_offset.consumer_group is a varchar(200). */
const MAX_GROUP_LENGTH = 200;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Refuses, before anything is read, a group name the offsets table cannot hold (it would fail
 * after printing the first chunk). Redis takes the same names, so one name works with both.
 */
function checkGroup(group: string | undefined): void {
  if (group === undefined) return;
  if (group.length === 0) throw new UsageError("--group: the name is empty");
  const length = [...group].length;
  if (length > MAX_GROUP_LENGTH) {
    throw new UsageError(`--group: at most ${MAX_GROUP_LENGTH} characters, got ${length}`);
  }
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
  checkGroup(o.group);
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

/** A stream entry; `fields` is null for an entry trimmed away while pending. */
type Entry = [id: string, fields: string[] | null];
type Read = [key: string, entries: (Entry | null)[]][];

interface Keyed {
  key: string;
  message: TailedMessage & { id: string };
}

function fromRedis(topic: string, id: string, fields: string[]): TailedMessage & { id: string } {
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

/**
 * The consumer name when none is given: the same for every run on a host, so a run first gets
 * what an earlier one left unacknowledged (a crash, or what --limit did not print).
 */
export function defaultConsumer(): string {
  return `relo-${hostname()}`;
}

/** Reads Redis streams through a consumer group; returns how many messages were handed over. */
export async function tailRedis(
  cfg: RedisStreamConfig,
  o: TailOptions & { consumer?: string },
  write: (m: TailedMessage) => void | Promise<void>,
): Promise<number> {
  checkGroup(o.group);
  const redis = await connectRedis(cfg);
  try {
    return await new GroupReader(redis, cfg, o, write).run();
  } finally {
    redis.disconnect();
  }
}

/** One `events tail --eventstream` run: XREADGROUP, XACK after each message, XAUTOCLAIM. */
class GroupReader {
  private readonly group: string;
  private readonly consumer: string;
  private readonly topicOf: Map<string, string>;
  private readonly keys: string[];
  private n = 0;

  constructor(
    private readonly redis: Redis,
    cfg: RedisStreamConfig,
    private readonly o: TailOptions & { consumer?: string },
    private readonly write: (m: TailedMessage) => void | Promise<void>,
  ) {
    this.group = o.group ?? cfg.groups[0];
    this.consumer = o.consumer ?? defaultConsumer();
    this.topicOf = new Map(o.topics.map((t) => [streamKey(cfg, t), t]));
    this.keys = [...this.topicOf.keys()];
  }

  /** How many messages one read may still hand over. */
  private left(): number {
    return this.o.limit === undefined ? CHUNK : Math.min(CHUNK, this.o.limit - this.n);
  }

  async run(): Promise<number> {
    for (const key of this.keys) await ensureGroup(this.redis, key, this.group);
    // Our own deliveries never acknowledged, then those of consumers gone quiet, then new ones.
    while (this.left() > 0 && (await this.read("0", null)) > 0) {}
    await this.claimIdle();
    while (!this.o.signal?.aborted && this.left() > 0) {
      const got = await this.read(">", this.o.follow ? (this.o.pollMs ?? 1000) : null);
      if (got === 0 && !this.o.follow) break;
    }
    return this.n;
  }

  /** One XREADGROUP over every stream; returns how many entries it got. */
  private async read(from: string, blockMs: number | null): Promise<number> {
    const args: (string | number)[] = ["GROUP", this.group, this.consumer, "COUNT", this.left()];
    if (blockMs !== null) args.push("BLOCK", blockMs);
    args.push("STREAMS", ...this.keys, ...this.keys.map(() => from));
    // The typed method, not call(): it turns RESP3's map reply into [key, entries] pairs.
    const res = (await (this.redis as any).xreadgroup(...args)) as Read | null;
    return this.deliver(res ?? []);
  }

  /**
   * Takes over what other consumers have left pending too long, a page of every stream at a
   * time so that they are handed over in offset order.
   */
  private async claimIdle(): Promise<void> {
    const cursors = new Map(this.keys.map((k) => [k, "0-0"]));
    while (cursors.size > 0 && this.left() > 0) {
      const read: Read = [];
      for (const [key, cursor] of cursors) {
        const [next, entries] = (await this.redis.call(
          "XAUTOCLAIM",
          key,
          this.group,
          this.consumer,
          this.o.claimIdleMs ?? CLAIM_IDLE_MS,
          cursor,
          "COUNT",
          this.left(),
        )) as [string, (Entry | null)[]];
        read.push([key, entries ?? []]);
        if (next === "0-0") cursors.delete(key);
        else cursors.set(key, next);
      }
      await this.deliver(read);
    }
  }

  /**
   * Hands over at most left() messages of a read, in offset order, acknowledging each once
   * written. COUNT applies per stream, so a read over several streams can get more: those stay
   * pending, given back for the next run. Returns how many entries the read got.
   */
  private async deliver(read: Read): Promise<number> {
    const lists: Keyed[][] = [];
    let got = 0;
    for (const [key, entries] of read) {
      got += entries.filter((e) => e !== null).length;
      lists.push(await this.present(key, entries));
    }
    const ordered = mergeByOffset(lists);
    const shown = ordered.slice(0, this.left());
    for (const { key, message } of shown) {
      await this.write(message);
      await this.redis.xack(key, this.group, message.id);
      this.n++;
    }
    await this.giveBack(ordered.slice(shown.length));
    return got;
  }

  /**
   * The entries still in the stream. A pending entry trimmed away (XADD MAXLEN ~) comes back
   * without fields: there is nothing left to read, so it is acknowledged and skipped.
   */
  private async present(key: string, entries: (Entry | null)[]): Promise<Keyed[]> {
    const gone = entries.filter((e): e is Entry => e !== null && e[1] === null).map(([id]) => id);
    if (gone.length > 0) await this.redis.xack(key, this.group, ...gone);
    const topic = this.topicOf.get(key)!;
    return entries
      .filter((e): e is [string, string[]] => e !== null && e[1] !== null)
      .map(([id, fields]) => ({ key, message: fromRedis(topic, id, fields) }));
  }

  /**
   * Leaves messages read but not printed pending, marked as idle long ago: the next run of this
   * consumer reads them first, and any other consumer takes them over at once (XAUTOCLAIM).
   */
  private async giveBack(rest: Keyed[]): Promise<void> {
    for (const key of new Set(rest.map((k) => k.key))) {
      const ids = rest.filter((k) => k.key === key).map((k) => k.message.id);
      await this.redis.call(
        "XCLAIM",
        key,
        this.group,
        this.consumer,
        0,
        ...ids,
        "IDLE",
        GIVEN_BACK_IDLE_MS,
        "JUSTID",
      );
    }
  }
}

/** Merges per-stream lists (each in stream order, which it keeps) into one in offset order. */
function mergeByOffset(lists: Keyed[][]): Keyed[] {
  const next = lists.map(() => 0);
  const out: Keyed[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (next[i] >= lists[i].length) continue;
      if (best < 0 || lists[i][next[i]].message.offset < lists[best][next[best]].message.offset) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best][next[best]++]);
  }
}
