/**
 * The one writer between HTTP requests and the database. A store has a single connection, so
 * events are queued and saved by one loop, in batches: a batch is one transaction, its payloads,
 * stream messages, issue updates and counters written together at its end (one commit and a
 * few statements for many events, which is what makes ingestion fast on both databases). If an
 * event fails, the batch is rolled back and saved again with each event in a savepoint of its
 * own, so a failing event is rolled back alone. A request is answered once the batch holding
 * its events has committed. When a Redis stream is configured, a relay loop of its own sends
 * committed stream messages to Redis (so a slow or hung Redis never holds up saving); otherwise
 * the embedded stream is trimmed now and then to `streamMaxLen` messages per topic. The writer's
 * transactions and the relay's reads share the one connection, taking turns.
 */
import type { Store } from "../store/types.js";
import { TxCache } from "./cache.js";
import type { Publisher } from "./redis.js";
import type { SaveContext } from "./save/context.js";
import { GroupBuffer, knownGroupIds } from "./save/group.js";
import {
  clearWrites,
  discarded,
  flushWrites,
  HashDiscarded,
  type SaveJob,
  type SaveResult,
  saveEvent,
} from "./save/index.js";
import { Sql } from "./sql.js";
import {
  commitOffset,
  committedOffset,
  deleteUpTo,
  lockWriters,
  readMessages,
  type StreamMessage,
  TOPICS,
  trimTopic,
} from "./stream.js";
import { TsdbBuffer } from "./tsdb.js";

export type SaveOutcome =
  | { status: "saved"; result: SaveResult }
  | { status: "discarded"; eventId: string; reason: string }
  | { status: "failed"; eventId: string; error: Error };

export interface IngestOptions {
  /** Events per transaction (default 200). */
  maxBatch?: number;
  /** Events waiting to be saved before new ones are refused (default 10000). */
  maxQueue?: number;
  /** Bytes of events (as received) waiting to be saved before new ones are refused (default 16 MiB). */
  maxQueueBytes?: number;
  /** The retention the eventstream payload carries (default 90 days). */
  retentionDays?: number;
  /** Relay stream messages here after each commit (a Redis stream). */
  publisher?: Publisher | null;
  /** Messages kept per topic in the embedded stream when nothing relays it (default 100000). */
  streamMaxLen?: number;
  /** Where failures of the background relay are reported. */
  onError?: (err: Error, what: string) => void;
}

/** The queue is full: the client should retry later (a 429). */
export class QueueFull extends Error {
  override name = "QueueFull";
}

interface Entry {
  job: SaveJob;
  done: (o: SaveOutcome) => void;
}

/** The consumer-group name under which the relay records what it has sent to Redis. */
export const RELAY_GROUP = "relo.redis-relay";
const RELAY_TOPIC = "*";
const RELAY_CHUNK = 1000;
const TRIM_EVERY = 2000;
const RELAY_RETRY_MS = 1000;
/** How long closing waits for the relay to hand the last messages to Redis. */
const CLOSE_RELAY_MS = 2000;

export class Ingest {
  readonly sql: Sql;
  private readonly queue: Entry[] = [];
  private queuedBytes = 0;
  private readonly cache = new TxCache();
  private readonly tsdb = new TsdbBuffer();
  private readonly ctx: SaveContext;
  private running: Promise<void> | null = null;
  private relaying: Promise<void> | null = null;
  /** A batch committed while the relay was running: look again when it ends. */
  private relayAgain = false;
  private relayStopped = false;
  /** The end of the chain of work on the connection (see exclusive). */
  private turn: Promise<unknown> = Promise.resolve();
  private relayed: number | null = null;
  private sinceTrim = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly opts: Required<Omit<IngestOptions, "publisher" | "onError">>;

  constructor(
    readonly store: Store,
    private readonly options: IngestOptions = {},
  ) {
    this.sql = new Sql(store);
    this.opts = {
      maxBatch: options.maxBatch ?? 200,
      maxQueue: options.maxQueue ?? 10_000,
      maxQueueBytes: options.maxQueueBytes ?? 16 * 1024 * 1024,
      retentionDays: options.retentionDays ?? 90,
      streamMaxLen: options.streamMaxLen ?? 100_000,
    };
    this.ctx = {
      sql: this.sql,
      cache: this.cache,
      tsdb: this.tsdb,
      groups: new GroupBuffer(),
      pending: { nodes: [], messages: [] },
      options: { retentionDays: this.opts.retentionDays },
    };
    // Messages a previous run left in the outbox go out now, not with the first new event.
    this.relaySoon();
  }

  /** Events waiting to be saved. */
  get queued(): number {
    return this.queue.length;
  }

  /** Saves the events of one request; resolves with one outcome per event once committed. */
  submit(jobs: SaveJob[]): Promise<SaveOutcome[]> {
    if (this.closed) return Promise.reject(new Error("ingestion is shut down"));
    const bytes = jobs.reduce((n, j) => n + (j.bytes ?? 0), 0);
    const overBytes = this.queuedBytes > 0 && this.queuedBytes + bytes > this.opts.maxQueueBytes;
    if (this.queue.length + jobs.length > this.opts.maxQueue || overBytes) {
      return Promise.reject(new QueueFull("too many events are waiting to be saved"));
    }
    this.queuedBytes += bytes;
    const all = jobs.map(
      (job) =>
        new Promise<SaveOutcome>((done) =>
          this.queue.push({
            job,
            done: (o) => {
              this.queuedBytes -= job.bytes ?? 0;
              done(o);
            },
          }),
        ),
    );
    this.kick();
    return Promise.all(all);
  }

  /** Resolves when every submitted event is saved and the relay has tried to send the stream. */
  async idle(): Promise<void> {
    while (this.running || this.relaying) await Promise.all([this.running, this.relaying]);
  }

  /**
   * Stops after the queued events are saved. The relay gets CLOSE_RELAY_MS to send the last
   * messages; what Redis has not taken by then stays in the outbox for the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.relaySoon();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise((resolve) => {
      timer = setTimeout(resolve, CLOSE_RELAY_MS);
    });
    await Promise.race([this.relayEnded(), gaveUp]);
    clearTimeout(timer);
    this.relayStopped = true;
    // Closing the connection fails a publish still waiting on Redis, which ends the relay.
    await this.options.publisher?.close();
    await this.relayEnded();
  }

  private async relayEnded(): Promise<void> {
    while (this.relaying) await this.relaying;
  }

  /**
   * Runs `fn` once the work queued on the connection before it is done: the writer's
   * transactions and the relay's reads must not interleave on the one connection.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn);
    this.turn = result.catch(() => {});
    return result;
  }

  private kick() {
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      // Let pending requests reach the queue first: SQLite calls never yield to the event loop,
      // so without this every batch would hold one event.
      await new Promise((resolve) => setImmediate(resolve));
      await this.exclusive(() => this.saveBatch(this.queue.splice(0, this.opts.maxBatch)));
      this.relaySoon();
    }
  }

  private async saveBatch(batch: Entry[]): Promise<void> {
    let outcomes: SaveOutcome[];
    try {
      outcomes = await this.attempt(batch, false);
    } catch {
      try {
        outcomes = await this.attempt(batch, true);
      } catch (err) {
        outcomes = batch.map((e) => ({
          status: "failed",
          eventId: e.job.data.event_id,
          error: err as Error,
        }));
      }
    }
    for (let i = 0; i < batch.length; i++) batch[i].done(outcomes[i]);
  }

  /**
   * Saves a batch in one transaction. `isolated`: each event in a savepoint, its writes flushed
   * before the next, so a failing event is rolled back alone; otherwise a failing event fails
   * the whole attempt (rolled back, nothing kept).
   */
  private async attempt(batch: Entry[], isolated: boolean): Promise<SaveOutcome[]> {
    const outcomes: SaveOutcome[] = [];
    this.cache.begin();
    try {
      await this.store.transaction(async () => {
        await lockWriters(this.sql);
        if (!isolated)
          await this.ctx.groups.prefetch(
            this.ctx,
            knownGroupIds(
              this.ctx,
              batch.map((e) => e.job),
            ),
          );
        for (const entry of batch)
          outcomes.push(await (isolated ? this.saveIsolated(entry.job) : this.saveOne(entry.job)));
        await flushWrites(this.ctx);
        await this.trim(batch.length);
      });
      this.cache.keep();
      return outcomes;
    } catch (err) {
      this.cache.drop();
      clearWrites(this.ctx);
      throw err;
    }
  }

  /** One event of an optimistic batch: only a tombstoned hash is an outcome, not a failure. */
  private async saveOne(job: SaveJob): Promise<SaveOutcome> {
    try {
      return { status: "saved", result: await saveEvent(this.ctx, job) };
    } catch (err) {
      if (!(err instanceof HashDiscarded)) throw err;
      await discarded(this.ctx, job);
      return { status: "discarded", eventId: job.data.event_id, reason: err.reason };
    }
  }

  private async saveIsolated(job: SaveJob): Promise<SaveOutcome> {
    this.cache.begin();
    try {
      const result = await this.store.transaction(async () => {
        const r = await saveEvent(this.ctx, job);
        await flushWrites(this.ctx);
        return r;
      });
      this.cache.keep();
      return { status: "saved", result };
    } catch (err) {
      this.cache.drop();
      clearWrites(this.ctx);
      if (!(err instanceof HashDiscarded))
        return { status: "failed", eventId: job.data.event_id, error: err as Error };
      await discarded(this.ctx, job);
      await flushWrites(this.ctx);
      return { status: "discarded", eventId: job.data.event_id, reason: err.reason };
    }
  }

  /** Keeps the embedded stream bounded when no relay drains it. */
  private async trim(events: number) {
    if (this.options.publisher) return;
    this.sinceTrim += events;
    if (this.sinceTrim < TRIM_EVERY) return;
    this.sinceTrim = 0;
    for (const topic of TOPICS) await trimTopic(this.sql, topic, this.opts.streamMaxLen);
  }

  /**
   * Starts a relay pass unless one is running (it is then asked to look again) or a retry after a
   * failure is already scheduled.
   */
  private relaySoon() {
    if (!this.options.publisher || this.relayStopped || this.retryTimer) return;
    if (this.relaying) {
      this.relayAgain = true;
      return;
    }
    this.relayAgain = false;
    this.relaying = this.relay(this.options.publisher).finally(() => {
      this.relaying = null;
      if (this.relayAgain) this.relaySoon();
    });
  }

  /** Sends committed messages to Redis, oldest first; a failure is retried a second later. */
  private async relay(publisher: Publisher): Promise<void> {
    try {
      while (!this.relayStopped) {
        const messages = await this.exclusive(() => this.unsent());
        if (messages.length === 0) return;
        await publisher.publish(messages);
        await this.exclusive(() => this.markSent(messages[messages.length - 1].offset));
      }
    } catch (err) {
      this.relayAgain = false;
      if (!this.relayStopped) this.options.onError?.(err as Error, "relaying the event stream to Redis");
      this.scheduleRetry();
    }
  }

  private async unsent(): Promise<StreamMessage[]> {
    this.relayed ??= await committedOffset(this.sql, RELAY_GROUP, RELAY_TOPIC);
    return readMessages(this.sql, { after: this.relayed, limit: RELAY_CHUNK });
  }

  private async markSent(last: number): Promise<void> {
    await this.store.transaction(async () => {
      await commitOffset(this.sql, RELAY_GROUP, RELAY_TOPIC, last);
      await deleteUpTo(this.sql, last);
    });
    this.relayed = last;
  }

  private scheduleRetry() {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.relaySoon();
    }, RELAY_RETRY_MS);
    this.retryTimer.unref();
  }
}
