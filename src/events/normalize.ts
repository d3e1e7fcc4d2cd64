/**
 * The part of Relay's store normalization relo needs before saving: a valid event id, numeric
 * timestamps within Relay's bounds (corrected for the sender's clock drift), a known level, tags
 * as a list of pairs, `message` folded into `logentry`, exceptions, threads and stack traces in
 * the shapes the save path reads, release, dist and environment names checked as Sentry checks
 * them, and no NUL characters in what goes to text columns. Invalid optional values are dropped
 * and listed in `errors`, as Relay does; an event that cannot be saved at all raises
 * NormalizeError. Fields relo does not interpret are kept verbatim.
 */
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";

/** An event relo cannot save; the message is the reason the client gets with a 400. */
export class NormalizeError extends Error {
  override name = "NormalizeError";
}

export type EventData = Record<string, any>;

export interface NormalizeContext {
  projectId: number;
  keyId: number | null;
  clientIp: string | null;
  /** When the request arrived, epoch seconds. */
  received: number;
  /** The envelope header's event_id, used when the payload has none. */
  eventId?: unknown;
  /** The envelope header's sent_at: when the SDK sent the event, by the SDK's clock. */
  sentAt?: unknown;
}

/** Sentry's MAX_TAG_KEY_LENGTH and MAX_TAG_VALUE_LENGTH. */
export const MAX_TAG_KEY_LENGTH = 200;
export const MAX_TAG_VALUE_LENGTH = 200;
/** Relay's bounds for event timestamps relative to the time of receipt. */
const MAX_SECS_IN_FUTURE = 60;
const MAX_SECS_IN_PAST = 30 * 24 * 3600;
/** Relay's MINIMUM_CLOCK_DRIFT: a smaller difference is network latency, not a wrong clock. */
const MIN_CLOCK_DRIFT = 55 * 60;
/**
 * Nesting relo accepts: serde_json, which Relay parses events with, refuses the 128th level. A
 * deeper payload would also overflow the stack of JSON.stringify when it is stored.
 */
const MAX_DEPTH = 127;

const LEVELS: Record<string, string> = {
  debug: "debug",
  info: "info",
  log: "info",
  warning: "warning",
  warn: "warning",
  error: "error",
  fatal: "fatal",
  critical: "fatal",
};

/** Event types that keep the type they were sent with (the normalizer would rewrite others). */
const KEPT_TYPES = new Set(["transaction", "generic", "feedback"]);

function addError(data: EventData, type: string, name: string, value: unknown) {
  data.errors ??= [];
  data.errors.push({ type, name, value });
}

export function normalizeEventId(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const hex = value.replace(/-/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? hex : null;
}

/** Epoch seconds from a number, a numeric string or an ISO-8601 string (UTC when no zone). */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value !== "string" || value.trim() === "") return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** Sentry's Release.is_valid_version plus Relay's 200-character limit. */
export function isValidRelease(version: string): boolean {
  const v = version.trim();
  return !(
    v === "" ||
    v.length > 200 ||
    /[\r\n\f\t/\\]/.test(version) ||
    v === "." ||
    v === ".." ||
    v.toLowerCase() === "latest"
  );
}

/** Sentry's Environment.is_valid_name (64 characters, no newline or slash). */
export function isValidEnvironment(name: string): boolean {
  return name.length <= 64 && !/[\n\r\f/]/.test(name);
}

/** Entries of a list sent either bare or as `{values: [...]}` (breadcrumbs, threads). */
function listOf(value: any): any[] {
  const list = Array.isArray(value) ? value : value?.values;
  return Array.isArray(list) ? list : [];
}

/**
 * Moves every timestamp of the event by `secs`: its own, `start_timestamp`, and those of its
 * breadcrumbs and spans, as Relay's ClockDriftProcessor does (so a transaction keeps its length).
 */
function shiftTimestamps(data: EventData, secs: number) {
  const spans = Array.isArray(data.spans) ? data.spans : [];
  for (const holder of [data, ...listOf(data.breadcrumbs), ...spans]) {
    if (holder === null || typeof holder !== "object") continue;
    for (const key of ["timestamp", "start_timestamp"]) {
      const ts = parseTimestamp(holder[key]);
      if (ts !== null) holder[key] = ts + secs;
    }
  }
}

const isoTime = (secs: number) => new Date(secs * 1000).toISOString();
/** The range of a JavaScript Date, in seconds: a sent_at beyond it is not a time. */
const MAX_DATE_SECS = 8.64e12;

/** Relay's envelope clock drift correction: sent_at off by 55 minutes or more moves every timestamp. */
function correctClockDrift(data: EventData, ctx: NormalizeContext) {
  const sentAt = parseTimestamp(ctx.sentAt);
  if (sentAt === null || Math.abs(sentAt) > MAX_DATE_SECS) return;
  if (Math.abs(Math.trunc(ctx.received - sentAt)) < MIN_CLOCK_DRIFT) return;
  shiftTimestamps(data, ctx.received - sentAt);
  data.errors ??= [];
  data.errors.push({
    type: "clock_drift",
    name: "timestamp",
    sdk_time: isoTime(sentAt),
    server_time: isoTime(ctx.received),
  });
}

function outOfBounds(ts: number, received: number): string | null {
  if (ts > received + MAX_SECS_IN_FUTURE) return "future_timestamp";
  if (ts < received - MAX_SECS_IN_PAST) return "past_timestamp";
  return null;
}

/**
 * Relay's normalize_timestamps: clock drift first, then a timestamp still too far in the future
 * or past moves every timestamp so that it becomes the time of receipt.
 */
function normalizeTimestamp(data: EventData, ctx: NormalizeContext) {
  const given = data.timestamp;
  for (const key of ["timestamp", "start_timestamp"]) {
    const parsed = parseTimestamp(data[key]);
    if (parsed === null && key === "timestamp" && given !== undefined)
      addError(data, "invalid_data", key, given);
    if (parsed === null) delete data[key];
    else data[key] = parsed;
  }
  correctClockDrift(data, ctx);
  const ts: number | undefined = data.timestamp;
  const bound = ts === undefined ? null : outOfBounds(ts, ctx.received);
  if (ts !== undefined && bound) {
    shiftTimestamps(data, ctx.received - ts);
    addError(data, bound, "timestamp", given);
  }
  if (ts === undefined || bound) data.timestamp = ctx.received;
}

function tagPairs(tags: unknown): [unknown, unknown][] {
  if (Array.isArray(tags))
    return tags.filter((t) => Array.isArray(t) && t.length === 2) as [unknown, unknown][];
  if (tags !== null && typeof tags === "object") return Object.entries(tags);
  return [];
}

function tagValue(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return null;
}

function normalizeTags(data: EventData) {
  const out: [string, string][] = [];
  for (const [k, v] of tagPairs(data.tags)) {
    const key = tagValue(k);
    const value = tagValue(v);
    if (key === null || value === null) continue;
    const badKey = key === "" || key.length > MAX_TAG_KEY_LENGTH || /[\n\r]/.test(key);
    const badValue = value === "" || value.length > MAX_TAG_VALUE_LENGTH || /[\n\r]/.test(value);
    if (badKey || badValue) {
      addError(data, "invalid_data", `tags.${key}`, value);
      continue;
    }
    out.push([key, value]);
  }
  data.tags = out;
}

/**
 * Without NUL characters: PostgreSQL's text cannot hold them, and Sentry's database layer removes
 * them from every string it writes.
 */
export function stripNul(value: string): string {
  return value.includes("\u0000") ? value.replaceAll("\u0000", "") : value;
}

function normalizeNames(data: EventData) {
  for (const key of ["release", "dist", "environment", "logger", "platform", "transaction"]) {
    const v = data[key];
    if (v === undefined || v === null) {
      delete data[key];
    } else if (typeof v === "number" || typeof v === "string") {
      data[key] = stripNul(String(v));
    } else {
      addError(data, "invalid_data", key, v);
      delete data[key];
    }
  }
  if (typeof data.culprit === "string") data.culprit = stripNul(data.culprit);
  if (typeof data.release === "string" && !isValidRelease(data.release)) {
    addError(data, "invalid_data", "release", data.release);
    delete data.release;
  } else if (typeof data.release === "string") {
    data.release = data.release.trim();
  }
  if (typeof data.dist === "string") {
    data.dist = data.dist.trim();
    if (data.dist === "" || data.dist.length > 64 || /[\r\n]/.test(data.dist)) {
      addError(data, "invalid_data", "dist", data.dist);
      delete data.dist;
    }
  }
  if (typeof data.environment === "string") {
    data.environment = data.environment.trim();
    if (data.environment === "") delete data.environment;
    else if (!isValidEnvironment(data.environment)) {
      addError(data, "invalid_data", "environment", data.environment);
      delete data.environment;
    }
  }
  if (typeof data.logger === "string" && data.logger.length > 64) data.logger = data.logger.slice(0, 64);
  if (typeof data.platform !== "string" || data.platform === "" || data.platform.length > 64)
    data.platform = "other";
}

function normalizeMessage(data: EventData) {
  let entry = data.logentry;
  if (entry === undefined && data.message !== undefined) entry = data.message;
  delete data.message;
  if (typeof entry === "string") entry = { formatted: entry };
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    delete data.logentry;
    return;
  }
  if (typeof entry.formatted !== "string" && typeof entry.message === "string")
    entry.formatted = entry.message;
  if (typeof entry.formatted !== "string" || entry.formatted === "") {
    delete data.logentry;
    return;
  }
  data.logentry = entry;
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Frame fields the save path reads as text (Relay's schema types them as strings). */
const FRAME_STRINGS = ["filename", "abs_path", "module", "function", "package", "platform"];

function normalizeFrame(frame: Record<string, any>, path: string, data: EventData) {
  for (const key of FRAME_STRINGS) {
    const v = frame[key];
    if (v === undefined || v === null || typeof v === "string") continue;
    addError(data, "invalid_data", `${path}.${key}`, v);
    delete frame[key];
  }
  if (frame.in_app !== undefined && typeof frame.in_app !== "boolean") {
    addError(data, "invalid_data", `${path}.in_app`, frame.in_app);
    delete frame.in_app;
  }
}

/**
 * `holder.stacktrace` as the save path reads it: an object whose frames are a list of frame
 * objects. Other frames are dropped; a stack trace without a list of frames is dropped.
 */
function normalizeStacktrace(holder: Record<string, any>, path: string, data: EventData) {
  const st = holder.stacktrace;
  if (st === undefined) return;
  if (!isObject(st) || !Array.isArray(st.frames)) {
    if (st !== null) addError(data, "invalid_data", `${path}stacktrace`, undefined);
    delete holder.stacktrace;
    return;
  }
  st.frames = st.frames.filter(isObject);
  st.frames.forEach((f: Record<string, any>, i: number) => {
    normalizeFrame(f, `${path}stacktrace.frames.${i}`, data);
  });
}

function normalizeException(data: EventData) {
  let exc = data.exception;
  if (exc === undefined && data["sentry.interfaces.Exception"] !== undefined) {
    exc = data["sentry.interfaces.Exception"];
    delete data["sentry.interfaces.Exception"];
  }
  if (Array.isArray(exc)) exc = { values: exc };
  const values = exc && typeof exc === "object" && Array.isArray(exc.values) ? exc.values : null;
  const kept = (values ?? []).filter(isObject);
  if (kept.length === 0) {
    delete data.exception;
    return;
  }
  kept.forEach((v: Record<string, any>, i: number) => {
    if (v.value !== undefined && v.value !== null && typeof v.value !== "string")
      v.value = JSON.stringify(v.value);
    if (v.type !== undefined && typeof v.type !== "string") delete v.type;
    normalizeStacktrace(v, `exception.values.${i}.`, data);
  });
  data.exception = { ...exc, values: kept };
}

/** Threads as `{values: [...]}` of thread objects, each stack trace normalized; else dropped. */
function normalizeThreads(data: EventData) {
  const threads = data.threads;
  if (threads === undefined || threads === null) {
    delete data.threads;
    return;
  }
  const values = Array.isArray(threads) ? threads : threads.values;
  if (!Array.isArray(values)) {
    addError(data, "invalid_data", "threads", undefined);
    delete data.threads;
    return;
  }
  const kept = values.filter(isObject);
  kept.forEach((t: Record<string, any>, i: number) => {
    normalizeStacktrace(t, `threads.values.${i}.`, data);
  });
  data.threads = Array.isArray(threads) ? { values: kept } : { ...threads, values: kept };
}

/** Whether `value` nests objects or arrays more than MAX_DEPTH levels deep (itself included). */
function tooDeep(value: unknown, depth = 1): boolean {
  if (value === null || typeof value !== "object") return false;
  if (depth > MAX_DEPTH) return true;
  if (Array.isArray(value)) return value.some((v) => tooDeep(v, depth + 1));
  for (const key in value) if (tooDeep((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

function normalizeUser(data: EventData, ctx: NormalizeContext) {
  const user = data.user;
  if (user === undefined) return;
  if (user === null || typeof user !== "object" || Array.isArray(user)) {
    delete data.user;
    return;
  }
  if (typeof user.id === "number") user.id = String(user.id);
  if (user.ip_address === "{{auto}}") user.ip_address = ctx.clientIp ?? undefined;
  if (user.ip_address !== undefined && (typeof user.ip_address !== "string" || isIP(user.ip_address) === 0)) {
    addError(data, "invalid_data", "user.ip_address", user.ip_address);
    delete user.ip_address;
  }
}

function normalizeFingerprint(data: EventData) {
  const fp = data.fingerprint;
  if (fp === undefined) return;
  const values = Array.isArray(fp) ? fp.map(tagValue).filter((v): v is string => v !== null) : [];
  if (values.length === 0) {
    addError(data, "invalid_data", "fingerprint", fp);
    delete data.fingerprint;
  } else {
    data.fingerprint = values;
  }
}

/** True for an exception an SDK made up to carry a stack trace (Node SDK 11 captureMessage). */
export function isSyntheticException(exc: any): boolean {
  return Boolean(exc?.mechanism?.synthetic) && !exc.type;
}

/** Relay's type inference, except that a message carrying a synthetic exception stays "default". */
function inferType(data: EventData): string {
  const values: any[] = data.exception?.values ?? [];
  return values.some((v) => !isSyntheticException(v)) ? "error" : "default";
}

function normalizeTransaction(data: EventData) {
  if (typeof data.transaction !== "string" || data.transaction === "") {
    throw new NormalizeError("transaction event without a transaction name");
  }
  if (typeof data.start_timestamp !== "number") {
    throw new NormalizeError("transaction event without a valid start_timestamp");
  }
  if (data.timestamp < data.start_timestamp) {
    throw new NormalizeError("transaction event ends before it starts");
  }
  const trace = data.contexts?.trace;
  if (!trace || typeof trace.trace_id !== "string" || typeof trace.span_id !== "string") {
    throw new NormalizeError("transaction event without a trace context (trace_id, span_id)");
  }
}

/** Normalizes `raw` in place and returns it. */
export function normalizeEvent(raw: unknown, ctx: NormalizeContext): EventData {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new NormalizeError("the event payload is not a JSON object");
  }
  if (tooDeep(raw)) throw new NormalizeError(`the event is nested more than ${MAX_DEPTH} levels deep`);
  const data = raw as EventData;
  // `errors` that is not a list cannot take the entries below (Relay drops it as invalid too).
  if (!Array.isArray(data.errors)) delete data.errors;
  const given = data.event_id ?? ctx.eventId;
  const eventId =
    given === undefined || given === null ? randomUUID().replace(/-/g, "") : normalizeEventId(given);
  if (eventId === null) throw new NormalizeError(`invalid event_id ${JSON.stringify(given)}`);
  data.event_id = eventId;
  normalizeTimestamp(data, ctx);
  data.received = ctx.received;
  normalizeNames(data);
  normalizeTags(data);
  normalizeMessage(data);
  normalizeException(data);
  normalizeThreads(data);
  normalizeStacktrace(data, "", data);
  normalizeUser(data, ctx);
  normalizeFingerprint(data);
  if (data.contexts !== undefined && (data.contexts === null || typeof data.contexts !== "object")) {
    delete data.contexts;
  }
  const type = KEPT_TYPES.has(data.type) ? data.type : inferType(data);
  data.type = type;
  if (type === "transaction") normalizeTransaction(data);
  const level = typeof data.level === "string" ? LEVELS[data.level.toLowerCase()] : undefined;
  if (data.level !== undefined && level === undefined) addError(data, "invalid_data", "level", data.level);
  data.level = level ?? (type === "transaction" ? "info" : "error");
  if (typeof data.server_name === "string" && !data.tags.some(([k]: [string]) => k === "server_name")) {
    data.tags.push(["server_name", data.server_name.slice(0, MAX_TAG_VALUE_LENGTH)]);
  }
  data.project = ctx.projectId;
  if (ctx.keyId !== null) data.key_id = String(ctx.keyId);
  data.version = "7";
  return data;
}
