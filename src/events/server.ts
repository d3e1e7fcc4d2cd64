/**
 * The ingestion endpoints real Sentry SDKs send to: `POST /api/:projectId/envelope/` and the
 * legacy `POST /api/:projectId/store/`. A request is authenticated (auth.ts), decompressed,
 * parsed, normalized, and its events handed to the writer (ingest.ts); it is answered once they
 * are committed: `200 {"id": event_id}`, `401` for bad auth, `400` for a malformed body, `413`
 * over the size limits, `429` when the writer is behind. Error bodies are `{"detail": reason}`.
 *
 * Memory stays bounded whatever a request holds: every limit is checked before the JSON it
 * guards is parsed, an envelope carries one event, and from parsing an event to queueing it
 * nothing awaits, so a parsed event lives only in the queue, whose size counts what events cost
 * in memory (eventCost), not their length as text.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from "fastify";
import type { Logger } from "pino";
import { type Auth, AuthError, authFromDsn, authFromRequest, checkKey } from "./auth.js";
import {
  DEFAULT_ENVELOPE_LIMITS,
  EnvelopeError,
  type EnvelopeLimits,
  EnvelopeTooLarge,
  parseEnvelope,
} from "./envelope.js";
import { type Ingest, QueueFull, type SaveOutcome } from "./ingest.js";
import { type EventData, NormalizeError, normalizeEvent } from "./normalize.js";
import type { SaveJob } from "./save/index.js";
import type { Sql } from "./sql.js";

export interface Limits extends EnvelopeLimits {
  /** The request body as sent (compressed or not). */
  maxBodyBytes: number;
  /** The body after decompression. */
  maxEnvelopeBytes: number;
  /** One event or transaction (Relay's max_event_size). */
  maxEventBytes: number;
  /**
   * Decompressed bodies held at once, across requests. Each may grow to `maxEnvelopeBytes`
   * outside the JavaScript heap; past this, a request is answered 429 (retry later).
   */
  maxDecodedInFlightBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 20 * 1024 * 1024,
  maxEnvelopeBytes: 20 * 1024 * 1024,
  maxEventBytes: 1024 * 1024,
  maxDecodedInFlightBytes: 64 * 1024 * 1024,
  ...DEFAULT_ENVELOPE_LIMITS,
};

/** Item types saved as events; other items (sessions, client reports, spans, ...) are accepted and not stored. */
const EVENT_ITEMS = new Set(["event", "transaction"]);

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

async function decodeOne(body: Buffer, encoding: string, max: number): Promise<Buffer> {
  const opts = { maxOutputLength: max };
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return gunzip(body, opts);
    case "deflate":
      // HTTP's deflate is zlib-wrapped, but some clients send raw deflate.
      return inflate(body, opts).catch((err) => {
        if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw err;
        return inflateRaw(body, opts);
      });
    case "br":
      return brotli(body, opts);
    case "identity":
    case "":
      return body;
    default:
      throw new HttpError(400, `unsupported Content-Encoding: ${encoding}`);
  }
}

/** Undoes Content-Encoding (applied in order, so undone last to first). */
export async function decodeBody(body: Buffer, header: string | undefined, limits: Limits): Promise<Buffer> {
  const encodings = (header ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  let out = body;
  for (const enc of encodings.reverse()) {
    try {
      out = await decodeOne(out, enc, limits.maxEnvelopeBytes);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new HttpError(413, `the decompressed body exceeds ${limits.maxEnvelopeBytes} bytes`);
      }
      throw new HttpError(400, `the body is not valid ${enc} data: ${(err as Error).message}`);
    }
  }
  if (out.length > limits.maxEnvelopeBytes) {
    throw new HttpError(413, `the body exceeds ${limits.maxEnvelopeBytes} bytes`);
  }
  return out;
}

/**
 * Bytes of decompressed bodies held by requests in flight. A decompression reserves what it may
 * produce (the envelope limit, or what is left), then keeps only what it produced until its
 * request is answered, so a burst of small compressed bodies cannot hold gigabytes.
 */
export class DecodeBudget {
  private used = 0;
  constructor(readonly total: number) {}

  /** Reserves up to `want` bytes; returns how many (0: none left). */
  take(want: number): number {
    const n = Math.min(want, this.total - this.used);
    this.used += n;
    return n;
  }

  give(n: number): void {
    this.used -= n;
  }
}

/**
 * `body` decompressed within a reservation from `budget`, which the caller gives back (the
 * returned `held`) once it is done with the body. A body that only failed to fit what was left is
 * a 429, not a 413.
 */
async function decodeWithin(
  body: Buffer,
  header: string | undefined,
  limits: Limits,
  budget: DecodeBudget,
): Promise<{ body: Buffer; held: number }> {
  const encoded = (header ?? "").split(",").some((e) => !["", "identity"].includes(e.trim().toLowerCase()));
  if (!encoded) return { body: await decodeBody(body, header, limits), held: 0 };
  const reserved = budget.take(limits.maxEnvelopeBytes);
  const busy = () => new QueueFull("too many large bodies are being decompressed; retry later");
  if (reserved === 0) throw busy();
  try {
    const out = await decodeBody(body, header, { ...limits, maxEnvelopeBytes: reserved });
    budget.give(reserved - out.length);
    return { body: out, held: out.length };
  } catch (err) {
    budget.give(reserved);
    if (err instanceof HttpError && err.statusCode === 413 && reserved < limits.maxEnvelopeBytes)
      throw busy();
    throw err;
  }
}

function parseJsonObject(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch (err) {
    throw new HttpError(400, `invalid ${what}: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, `invalid ${what}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * What a parsed event costs in memory, estimated from its JSON text: V8 spends up to about 64
 * bytes on an object or array and 24 on a member, so `[{},{},...]` takes 20 times its length.
 */
export function eventCost(payload: Buffer): number {
  let cost = payload.length;
  for (let i = 0; i < payload.length; i++) {
    const byte = payload[i];
    if (byte === 0x7b || byte === 0x5b) cost += 64;
    else if (byte === 0x2c || byte === 0x3a) cost += 24;
  }
  return cost;
}

/** The legacy store body: JSON, or (very old SDKs) base64 of zlib-compressed JSON. */
async function storePayload(body: Buffer, limits: Limits): Promise<Buffer> {
  const first = body.toString("utf8", 0, Math.min(body.length, 64)).trimStart()[0];
  if (first === "{" || first === undefined) return body;
  try {
    return await inflate(Buffer.from(body.toString("ascii"), "base64"), {
      maxOutputLength: limits.maxEventBytes,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new HttpError(413, `the event exceeds ${limits.maxEventBytes} bytes`);
    }
    // Not base64 of zlib data: parsed as JSON, which says what is wrong with it.
    return body;
  }
}

/** An event or transaction item, not parsed yet. */
interface RawEvent {
  type: string;
  payload: Buffer;
  what: string;
}

interface Parsed {
  auth: Auth | null;
  events: RawEvent[];
  envelopeEventId: unknown;
  sentAt: unknown;
}

function frameEnvelope(body: Buffer, limits: Limits) {
  try {
    return parseEnvelope(body, limits);
  } catch (err) {
    if (err instanceof EnvelopeTooLarge) throw new HttpError(413, err.message);
    if (err instanceof EnvelopeError) throw new HttpError(400, err.message);
    throw err;
  }
}

/**
 * The envelope's event, unparsed. Relay takes one event or transaction per envelope: a second
 * would share the envelope's event id (and replace the first one's payload), so it is refused.
 */
function envelopeEvents(body: Buffer, projectId: number, limits: Limits, auth: Auth | null): Parsed {
  const envelope = frameEnvelope(body, limits);
  const found = auth ?? authFromDsn(envelope.header.dsn, projectId);
  const events: RawEvent[] = [];
  for (const item of envelope.items) {
    const type = String(item.header.type);
    if (!EVENT_ITEMS.has(type)) continue;
    if (events.length > 0) {
      throw new HttpError(
        400,
        `duplicate item: the ${type} item at byte ${item.offset} is a second event in the envelope`,
      );
    }
    if (item.payload.length > limits.maxEventBytes) {
      throw new HttpError(
        413,
        `the ${type} item at byte ${item.offset} exceeds ${limits.maxEventBytes} bytes`,
      );
    }
    events.push({ type, payload: item.payload, what: `${type} item at byte ${item.offset}` });
  }
  return { auth: found, events, envelopeEventId: envelope.header.event_id, sentAt: envelope.header.sent_at };
}

async function storeEvents(body: Buffer, limits: Limits, auth: Auth | null): Promise<Parsed> {
  const payload = await storePayload(body, limits);
  if (payload.length > limits.maxEventBytes)
    throw new HttpError(413, `the event exceeds ${limits.maxEventBytes} bytes`);
  return {
    auth,
    events: [{ type: "event", payload, what: "event" }],
    envelopeEventId: undefined,
    sentAt: undefined,
  };
}

export interface IngestRoutesOptions {
  ingest: Ingest;
  /** A connection for key lookups, separate from the writer's. */
  reader: Sql;
  limits?: Partial<Limits>;
  log?: Logger | null;
}

function projectIdOf(req: FastifyRequest): number {
  const raw = (req.params as { projectId: string }).projectId;
  if (!/^\d{1,18}$/.test(raw)) throw new HttpError(400, `invalid project id ${JSON.stringify(raw)}`);
  return Number(raw);
}

function requestAuth(req: FastifyRequest): Auth | null {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return authFromRequest({
    xSentryAuth: header("x-sentry-auth"),
    authorization: header("authorization"),
    query: (req.query ?? {}) as Record<string, unknown>,
  });
}

function answer(reply: FastifyReply, outcomes: SaveOutcome[], envelopeEventId: unknown, log: Logger | null) {
  const failed = outcomes.find((o) => o.status === "failed");
  if (failed && failed.status === "failed") {
    log?.error({ err: failed.error, event_id: failed.eventId }, "saving an event failed");
    return reply.code(500).send({ detail: "the event could not be saved" });
  }
  const id = outcomes[0]?.status === "saved" ? outcomes[0].result.eventId : outcomes[0]?.eventId;
  return reply.send(id ? { id } : typeof envelopeEventId === "string" ? { id: envelopeEventId } : {});
}

interface JobContext {
  projectId: number;
  keyId: number;
  clientIp: string | null;
  startTime: number;
  parsed: Parsed;
}

function toJob(event: RawEvent, c: JobContext): SaveJob {
  const raw = parseJsonObject(event.payload, event.what);
  if (event.type === "transaction") raw.type = "transaction";
  let data: EventData;
  try {
    data = normalizeEvent(raw, {
      projectId: c.projectId,
      keyId: c.keyId,
      clientIp: c.clientIp,
      received: c.startTime,
      eventId: c.parsed.envelopeEventId,
      sentAt: c.parsed.sentAt,
    });
  } catch (err) {
    if (err instanceof NormalizeError) throw new HttpError(400, err.message);
    throw err;
  }
  return {
    projectId: c.projectId,
    keyId: c.keyId,
    data,
    startTime: c.startTime,
    bytes: eventCost(event.payload),
  };
}

type Routes = IngestRoutesOptions & { budget: DecodeBudget };

async function handle(req: FastifyRequest, reply: FastifyReply, kind: "envelope" | "store", o: Routes) {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const startTime = Date.now() / 1000;
  const projectId = projectIdOf(req);
  // Header or query auth is checked before the body is read; an envelope's DSN only after.
  const requestKey = requestAuth(req);
  const key = requestKey ? await checkKey(o.reader, requestKey, projectId) : null;
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new HttpError(400, "empty body");
  const header = req.headers["content-encoding"] as string | undefined;
  const { body, held } = await decodeWithin(req.body, header, limits, o.budget);
  try {
    return await handleBody(req, reply, kind, o, { limits, startTime, projectId, requestKey, key, body });
  } finally {
    o.budget.give(held);
  }
}

interface BodyContext {
  limits: Limits;
  startTime: number;
  projectId: number;
  requestKey: ReturnType<typeof requestAuth>;
  key: Awaited<ReturnType<typeof checkKey>> | null;
  body: Buffer;
}

async function handleBody(
  req: FastifyRequest,
  reply: FastifyReply,
  kind: "envelope" | "store",
  o: Routes,
  { limits, startTime, projectId, requestKey, key, body }: BodyContext,
) {
  const parsed =
    kind === "envelope"
      ? envelopeEvents(body, projectId, limits, requestKey)
      : await storeEvents(body, limits, requestKey);
  if (!parsed.auth) throw new AuthError("Unable to find authentication information");
  key ??= await checkKey(o.reader, parsed.auth, projectId);
  // Nothing awaits from here to submit: a parsed event is held only once queued (see above).
  const c = { projectId, keyId: key.id, clientIp: req.ip ?? null, startTime, parsed };
  const jobs = parsed.events.map((event) => toJob(event, c));
  const outcomes = jobs.length > 0 ? await o.ingest.submit(jobs) : [];
  return answer(reply, outcomes, parsed.envelopeEventId, o.log ?? null);
}

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers":
    "x-sentry-auth, x-requested-with, origin, accept, content-type, authentication, authorization, content-encoding, sentry-trace, baggage",
  "access-control-expose-headers": "x-sentry-error, x-sentry-rate-limits, retry-after",
  "access-control-max-age": "3600",
};

/** A fastify app with the ingestion routes. */
export function buildApp(o: IngestRoutesOptions) {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const app = Fastify({
    bodyLimit: limits.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true },
    logController: new LogController({ disableRequestLogging: true }),
    ...(o.log ? { loggerInstance: o.log } : { logger: false }),
  });
  // The Node SDK sends envelopes without a Content-Type; every body is read as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.addHook("onRequest", async (req, reply) => {
    if (req.headers.origin) reply.headers(CORS_HEADERS);
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof AuthError) return reply.code(401).send({ detail: err.message });
    if (err instanceof QueueFull)
      return reply.code(429).header("retry-after", "1").send({ detail: err.message });
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ detail: err.message });
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send({ detail: `the body exceeds ${limits.maxBodyBytes} bytes` });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ detail: err.message });
    }
    o.log?.error({ err }, "request failed");
    return reply.code(500).send({ detail: "internal error" });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ detail: "not found" }));
  app.options("/api/:projectId/*", (_req, reply) => reply.headers(CORS_HEADERS).code(200).send());
  const routes: Routes = { ...o, budget: new DecodeBudget(limits.maxDecodedInFlightBytes) };
  app.post("/api/:projectId/envelope/", (req, reply) => handle(req, reply, "envelope", routes));
  app.post("/api/:projectId/store/", (req, reply) => handle(req, reply, "store", routes));
  return app;
}
