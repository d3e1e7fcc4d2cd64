/**
 * The Redis Streams event stream (`--eventstream redis://host:port[/db]?prefix=relo:&maxlen=N&group=NAME`):
 * one stream per topic (`<prefix>events`, `<prefix>transactions`, `<prefix>outcomes`), each
 * message with the fields `key` (the project id), `value` (the message JSON), `headers` (JSON)
 * and `offset` (its offset in the embedded table, for consumers that deduplicate). Streams are
 * trimmed to about `maxlen` messages (`XADD MAXLEN ~`), and the consumer groups named by `group`
 * (default `relo`) are created from the start of the stream.
 *
 * Messages reach Redis only after the save transaction that wrote them (and the event payload)
 * has committed: the embedded table is the outbox, relayed in offset order. A relay interrupted
 * after XADD and before its offset is committed sends those messages again on the next run
 * (at-least-once, as Kafka producers are); `offset` tells them apart.
 */
import { Redis } from "ioredis";
import { ReloError } from "../backup/errors.js";
import { type StreamMessage, TOPICS } from "./stream.js";

export interface RedisStreamConfig {
  /** The connection URL without relo's parameters. */
  url: string;
  prefix: string;
  maxLen: number;
  groups: string[];
}

export const DEFAULT_MAXLEN = 100_000;

export function parseRedisStreamUrl(value: string): RedisStreamConfig {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ReloError(`--eventstream: not a URL: ${value}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new ReloError(`--eventstream: expected a redis:// URL, got ${value}`);
  }
  const maxLenText = u.searchParams.get("maxlen");
  const maxLen = maxLenText === null ? DEFAULT_MAXLEN : Number(maxLenText);
  if (!Number.isSafeInteger(maxLen) || maxLen < 1) {
    throw new ReloError(`--eventstream: maxlen must be a positive integer, got ${maxLenText}`);
  }
  const groups = u.searchParams.getAll("group").filter(Boolean);
  const prefix = u.searchParams.get("prefix") ?? "relo:";
  for (const p of ["maxlen", "group", "prefix"]) u.searchParams.delete(p);
  return { url: u.toString(), prefix, maxLen, groups: groups.length > 0 ? groups : ["relo"] };
}

export function streamKey(cfg: RedisStreamConfig, topic: string): string {
  return `${cfg.prefix}${topic}`;
}

/** How long the relay waits for Redis to answer a command before it gives up and retries later. */
export const COMMAND_TIMEOUT_MS = 5000;
/** How long a closing connection waits for Redis to close its side before dropping it. */
const DISCONNECT_TIMEOUT_MS = 300;
const TIMED_OUT = "Command timed out";

/**
 * Opens a connection, failing at once (not retrying forever) when Redis is unreachable.
 * `commandTimeout` (ms): a command Redis does not answer in time fails instead of waiting forever,
 * and closing does not wait on Redis for more than DISCONNECT_TIMEOUT_MS.
 */
export async function connectRedis(cfg: RedisStreamConfig, commandTimeout?: number): Promise<Redis> {
  const redis = new Redis(cfg.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 5000,
    commandTimeout,
    ...(commandTimeout === undefined ? {} : { disconnectTimeout: DISCONNECT_TIMEOUT_MS }),
    // The relay resends from the outbox itself; resent timed-out commands would be duplicates.
    autoResendUnfulfilledCommands: commandTimeout === undefined,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  });
  redis.on("error", () => {}); // reported by the failing command; reconnects on its own
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ReloError(`cannot connect to Redis at ${redact(cfg.url)}: ${(err as Error).message}`);
  }
  return redis;
}

/** Creates a consumer group reading a stream from its start, unless it exists. */
export async function ensureGroup(redis: Redis, key: string, group: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", key, group, "0", "MKSTREAM");
  } catch (err) {
    if (!String((err as Error).message).startsWith("BUSYGROUP")) throw err;
  }
}

export interface Publisher {
  /** Sends messages in offset order; resolves once Redis holds them all. */
  publish(messages: StreamMessage[]): Promise<void>;
  close(): Promise<void>;
}

export class RedisPublisher implements Publisher {
  private constructor(
    readonly config: RedisStreamConfig,
    private readonly redis: Redis,
  ) {}

  static async open(config: RedisStreamConfig): Promise<RedisPublisher> {
    const redis = await connectRedis(config, COMMAND_TIMEOUT_MS);
    for (const topic of TOPICS) {
      for (const group of config.groups) await ensureGroup(redis, streamKey(config, topic), group);
    }
    return new RedisPublisher(config, redis);
  }

  async publish(messages: StreamMessage[]): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const m of messages) {
      pipe.xadd(
        streamKey(this.config, m.topic),
        "MAXLEN",
        "~",
        String(this.config.maxLen),
        "*",
        "key",
        m.key ?? "",
        "value",
        m.value,
        "headers",
        JSON.stringify(m.headers),
        "offset",
        String(m.offset),
      );
    }
    const results = (await pipe.exec()) ?? [];
    const failed = results.find(([err]: [Error | null, unknown]) => err);
    if (!failed) return;
    // A hung Redis may still run the timed-out commands when it wakes up: a new connection keeps
    // the retries from queueing up behind them (each would add the same messages once more).
    if (failed[0]?.message === TIMED_OUT) this.redis.disconnect(true);
    throw failed[0];
  }

  /**
   * Closes the connection; pending commands fail. Not QUIT, which would wait on a Redis that
   * does not answer.
   */
  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "redis";
  }
}
