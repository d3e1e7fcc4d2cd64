/**
 * The part of Relay's store normalization relo needs before saving: a valid event id, numeric
 * timestamps within Relay's bounds, a known level, tags as a list of pairs, `message` folded
 * into `logentry`, exceptions as `{values: [...]}`, and release, dist and environment names
 * checked as Sentry checks them. Invalid optional values are dropped and listed in `errors`, as
 * Relay does; an event that cannot be saved at all raises NormalizeError. Fields relo does not
 * interpret are kept verbatim.
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
}

/** Sentry's MAX_TAG_KEY_LENGTH and MAX_TAG_VALUE_LENGTH. */
export const MAX_TAG_KEY_LENGTH = 200;
export const MAX_TAG_VALUE_LENGTH = 200;
/** Relay's bounds for event timestamps relative to the time of receipt. */
const MAX_SECS_IN_FUTURE = 60;
const MAX_SECS_IN_PAST = 30 * 24 * 3600;

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

function normalizeTimestamp(data: EventData, ctx: NormalizeContext) {
  let ts = parseTimestamp(data.timestamp);
  if (data.timestamp !== undefined && ts === null)
    addError(data, "invalid_data", "timestamp", data.timestamp);
  if (ts !== null && ts > ctx.received + MAX_SECS_IN_FUTURE) {
    addError(data, "future_timestamp", "timestamp", data.timestamp);
    ts = null;
  } else if (ts !== null && ts < ctx.received - MAX_SECS_IN_PAST) {
    addError(data, "past_timestamp", "timestamp", data.timestamp);
    ts = null;
  }
  data.timestamp = ts ?? ctx.received;
  if (data.start_timestamp !== undefined) {
    const start = parseTimestamp(data.start_timestamp);
    if (start === null) delete data.start_timestamp;
    else data.start_timestamp = start;
  }
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

function normalizeNames(data: EventData) {
  for (const key of ["release", "dist", "environment", "logger", "platform", "transaction"]) {
    const v = data[key];
    if (v === undefined || v === null) {
      delete data[key];
    } else if (typeof v === "number") {
      data[key] = String(v);
    } else if (typeof v !== "string") {
      addError(data, "invalid_data", key, v);
      delete data[key];
    }
  }
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

function normalizeException(data: EventData) {
  let exc = data.exception;
  if (exc === undefined && data["sentry.interfaces.Exception"] !== undefined) {
    exc = data["sentry.interfaces.Exception"];
    delete data["sentry.interfaces.Exception"];
  }
  if (Array.isArray(exc)) exc = { values: exc };
  const values = exc && typeof exc === "object" && Array.isArray(exc.values) ? exc.values : null;
  const kept = (values ?? []).filter(
    (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v),
  );
  if (kept.length === 0) {
    delete data.exception;
    return;
  }
  for (const v of kept) {
    if (v.value !== undefined && v.value !== null && typeof v.value !== "string")
      v.value = JSON.stringify(v.value);
    if (v.type !== undefined && typeof v.type !== "string") delete v.type;
    const frames = v.stacktrace?.frames;
    if (v.stacktrace && !Array.isArray(frames)) delete v.stacktrace;
    else if (Array.isArray(frames))
      v.stacktrace.frames = frames.filter((f: unknown) => f && typeof f === "object");
  }
  data.exception = { ...exc, values: kept };
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
  const data = raw as EventData;
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
