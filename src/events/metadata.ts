/**
 * What Sentry derives from an event for its issue: the metadata, title, culprit and location
 * (`materialize_metadata`), and the search message stored as the message. Fields are
 * read as normalize.ts leaves them, but any value of the wrong type only counts as absent, so
 * deriving never fails; the culprit and message, which go to text columns, carry no NUL.
 */
import { type EventData, isSyntheticException, stripNul } from "./normalize.js";

/** Sentry's MAX_CULPRIT_LENGTH and SENTRY_MAX_MESSAGE_LENGTH. */
const MAX_CULPRIT_LENGTH = 200;
const MAX_MESSAGE_LENGTH = 8192;

/** Titles that say nothing; an issue keeps a real title over one of these. */
export const PLACEHOLDER_TITLES = new Set([
  "<unlabeled event>",
  "<untitled>",
  "<unknown>",
  "<unlabeled transaction>",
]);

export interface Materialized {
  type: string;
  culprit: string;
  metadata: Record<string, unknown>;
  title: string;
  location: string | null;
}

/** Sentry's truncatechars: at most `n` characters, the last three "..." when cut. */
export function truncate(value: string, n: number): string {
  return value.length > n ? `${value.slice(0, n - 3)}...` : value;
}

function firstLine(value: string): string {
  return value.split(/\r?\n/)[0] ?? "";
}

/** `value` when it is a string, else "". */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function listOf(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

/** The exception an error's issue is about: the last real one (the outermost). */
export function mainException(data: EventData): any {
  const values = listOf(data.exception?.values);
  for (let i = values.length - 1; i >= 0; i--) if (!isSyntheticException(values[i])) return values[i];
  return undefined;
}

function frameCulprit(frame: any, platform: string): string {
  const p = text(frame?.platform) || platform;
  const fn = text(frame?.function) || "?";
  if (p === "objc" || p === "cocoa" || p === "native") return fn;
  const fileloc = text(frame?.module) || text(frame?.filename);
  if (!fileloc) return "";
  if (p === "javascript" || p === "node") return `${fn}(${fileloc})`;
  return `${truncate(fileloc, MAX_CULPRIT_LENGTH)} in ${fn}`;
}

/** The most relevant frame: the innermost in-app frame, else the innermost frame. */
function crashFrame(frames: any[]): any {
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i]?.in_app === true) return frames[i];
  return frames[frames.length - 1];
}

function stacktraces(data: EventData): any[] {
  const values = listOf(data.exception?.values);
  if (values.length > 0) return [values[values.length - 1]?.stacktrace];
  return [data.stacktrace, ...listOf(data.threads?.values).map((t: any) => t?.stacktrace)];
}

/** Sentry's generate_culprit. */
function generateCulprit(data: EventData): string {
  let culprit = "";
  for (const st of stacktraces(data)) {
    const frames = st?.frames;
    if (!Array.isArray(frames) || frames.length === 0) continue;
    culprit = frameCulprit(crashFrame(frames), data.platform);
    if (culprit) break;
  }
  if (!culprit) culprit = text(data.request?.url);
  return truncate(culprit, MAX_CULPRIT_LENGTH);
}

function frameMix(frames: any[]): string {
  const inApp = frames.filter((f) => f?.in_app === true).length;
  if (inApp === 0) return "system-only";
  return inApp === frames.length ? "in-app-only" : "mixed";
}

function errorMetadata(data: EventData): Record<string, unknown> {
  const exc = mainException(data);
  if (!exc) return {};
  const meta: Record<string, unknown> = {
    type: truncate(text(exc.type) || "Error", 128),
    value: truncate(text(exc.value), 1024),
  };
  const frames = listOf(exc.stacktrace?.frames);
  if (frames.length > 0) {
    const frame = crashFrame(frames);
    const filename = text(frame?.filename) || text(frame?.abs_path);
    if (filename) meta.filename = filename;
    if (text(frame?.function)) meta.function = frame.function;
    meta.in_app_frame_mix = frameMix(frames);
  }
  return meta;
}

export function messageOf(data: EventData): string {
  return text(data.logentry?.formatted) || text(data.logentry?.message);
}

function materializeFor(data: EventData): Omit<Materialized, "culprit"> {
  switch (data.type) {
    case "error": {
      const metadata = errorMetadata(data);
      const value = firstLine(String(metadata.value ?? ""));
      const title = value ? `${metadata.type}: ${truncate(value, 100)}` : String(metadata.type);
      return { type: "error", metadata, title, location: (metadata.filename as string) ?? null };
    }
    case "transaction": {
      const title = text(data.transaction) || "<unlabeled transaction>";
      return { type: "transaction", metadata: { title }, title, location: null };
    }
    default: {
      const message = firstLine(messageOf(data)) || text(data.title);
      const title = message ? truncate(message, 100) : "<unlabeled event>";
      return { type: data.type, metadata: { title }, title, location: null };
    }
  }
}

/** Sentry's materialize_metadata: type, culprit, metadata, title and location. */
export function materialize(data: EventData): Materialized {
  const culprit = text(data.culprit) || text(data.transaction) || generateCulprit(data);
  return { ...materializeFor(data), culprit: truncate(stripNul(culprit), MAX_CULPRIT_LENGTH) };
}

/** Sentry's Event.search_message: the message plus the metadata and culprit it does not contain. */
export function searchMessage(data: EventData, m: Materialized): string {
  let message = messageOf(data);
  for (const value of Object.values(m.metadata)) {
    const s = typeof value === "string" ? value : JSON.stringify(value);
    if (!message.includes(s)) message = `${message} ${s}`;
  }
  if (m.culprit && !message.includes(m.culprit)) message = `${message} ${m.culprit}`;
  return truncate(stripNul(message).trim(), MAX_MESSAGE_LENGTH);
}

/** What Group.save keeps of a message: the first line of the stripped text, 255 characters. */
export function groupMessage(message: string): string {
  return truncate(firstLine(message.trim()), 255);
}
