/**
 * relo's grouping (config id `relo:1`; Sentry's own configs are not reimplemented). An event's
 * hash is the md5 of its grouping components:
 *
 * - the event's `fingerprint` when it has one, each `{{ default }}` standing for the default
 *   components (so `["{{ default }}"]` groups exactly as no fingerprint);
 * - else, for events with exceptions, each exception's type, value and in-app frames (module or
 *   file name, and function; line numbers are left out so a deploy does not split issues);
 * - else the message (its template, `logentry.message`, when the SDK sent parameters).
 *
 * A synthetic exception without a type (what the Node SDK attaches to captureMessage) is a stack
 * trace for the message, not an exception.
 */
import { createHash } from "node:crypto";
import { type EventData, isSyntheticException } from "./normalize.js";

export const GROUPING_CONFIG = { id: "relo:1" };

function frameComponent(frame: any): string {
  return `${frame.module || frame.filename || frame.abs_path || ""} ${frame.function || ""}`.trim();
}

export function defaultComponents(data: EventData): string[] {
  const exceptions = ((data.exception?.values ?? []) as any[]).filter((v) => !isSyntheticException(v));
  if (exceptions.length > 0) {
    const out: string[] = [];
    for (const exc of exceptions) {
      const frames: any[] = exc.stacktrace?.frames ?? [];
      out.push(
        "exception",
        exc.type ?? "",
        exc.value ?? "",
        ...frames.filter((f) => f?.in_app === true).map(frameComponent),
      );
    }
    return out;
  }
  const entry = data.logentry;
  return ["message", entry?.message ?? entry?.formatted ?? ""];
}

function isDefaultVariable(value: string): boolean {
  return /^\{\{\s*default\s*\}\}$/i.test(value);
}

export function groupingComponents(data: EventData): string[] {
  const fingerprint: string[] | undefined = data.fingerprint;
  if (!fingerprint) return defaultComponents(data);
  return fingerprint.flatMap((v) => (isDefaultVariable(v) ? defaultComponents(data) : [v]));
}

/** The event's hashes, primary first (relo computes one). */
export function computeHashes(data: EventData): string[] {
  const components = groupingComponents(data);
  return [createHash("md5").update(JSON.stringify(components)).digest("hex")];
}
