/**
 * Findings: the records Sentry's backup tools report problems with, and their two renderings
 * (the `pretty()` text printed on stderr and the findings-file JSON).
 */
import { writeFileSync } from "node:fs";
import { ReloError } from "./errors.js";
import { dumpJson } from "./pyjson.js";

/** Names a row: its model and 1-based ordinal within that model (null when unknown). */
export interface InstanceID {
  model: string;
  ordinal: number | null;
}

export type FindingClass = "ComparatorFinding" | "RpcExportError" | "RpcImportError";

export interface Finding {
  finding: FindingClass;
  kind: string;
  on: InstanceID;
  left_pk: number | null;
  right_pk: number | null;
  reason: string;
}

/** `InstanceID(model: 'sentry.user', ordinal: 3)`; an ordinal of null or 0 is left out. */
export function prettyInstanceId(on: InstanceID): string {
  const ordinal = on.ordinal ? `, ordinal: ${on.ordinal}` : "";
  return `InstanceID(model: '${on.model}'${ordinal})`;
}

/** Sentry's multi-line `pretty()` rendering; pks of 0/null and an empty reason are left out. */
export function prettyFinding(f: Finding): string {
  let out = `${f.finding}(\n    kind: ${f.kind},\n    on: ${prettyInstanceId(f.on)}`;
  if (f.left_pk) out += `,\n    left_pk: ${f.left_pk}`;
  if (f.right_pk) out += `,\n    right_pk: ${f.right_pk}`;
  if (f.reason) out += `,\n    reason: ${f.reason}`;
  return `${out}\n)`;
}

/** The findings-file text: keys sorted, indent 2, ASCII only, no trailing newline. */
export function findingsJson(findings: Finding[]): string {
  return dumpJson(findings, { indent: 2, sortKeys: true });
}

export function writeFindingsFile(path: string, findings: Finding[]): void {
  try {
    writeFileSync(path, findingsJson(findings));
  } catch (err) {
    // A path mistake (the CLI checks the path first, but it can change meanwhile): one line, no trace.
    throw new ReloError(`cannot write the findings file ${path}: ${(err as Error).message}`);
  }
}
