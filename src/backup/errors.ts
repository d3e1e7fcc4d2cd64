/**
 * Every error kind relo's backup stages report, in one place.
 *
 * `RpcImportErrorKind` and `RpcExportErrorKind` carry Sentry's names, since findings files and
 * `pretty()` output must read the same as Sentry's. `ReloError` is the base of every error caused
 * by the user's input or flags: the CLI prints its message (never a stack trace) and exits 1.
 */
import type { Finding, InstanceID } from "./findings.js";
import { prettyFinding } from "./findings.js";

export const RpcImportErrorKind = {
  Unknown: "Unknown",
  DatabaseError: "DatabaseError",
  DeserializationFailed: "DeserializationFailed",
  IncorrectSiloModeForModel: "IncorrectSiloModeForModel",
  IntegrityError: "IntegrityError",
  InvalidMinOrdinal: "InvalidMinOrdinal",
  MissingImportUUID: "MissingImportUUID",
  UnknownModel: "UnknownModel",
  UnexpectedModel: "UnexpectedModel",
  UnspecifiedScope: "UnspecifiedScope",
  ValidationError: "ValidationError",
} as const;
export type RpcImportErrorKind = (typeof RpcImportErrorKind)[keyof typeof RpcImportErrorKind];

export const RpcExportErrorKind = {
  Unknown: "Unknown",
  IncorrectSiloModeForModel: "IncorrectSiloModeForModel",
  UnknownModel: "UnknownModel",
  UnexportableModel: "UnexportableModel",
  UnspecifiedScope: "UnspecifiedScope",
} as const;
export type RpcExportErrorKind = (typeof RpcExportErrorKind)[keyof typeof RpcExportErrorKind];

/** An error a user can act on: printed as one message, exit status 1. */
export class ReloError extends Error {
  override name = "ReloError";
}

/** Wrong or conflicting command-line flags (Sentry raises click.UsageError for these). */
export class UsageError extends ReloError {
  override name = "UsageError";
}

/** The input file is not a readable export (syntax, shape). Carries where it went wrong. */
export class InputError extends ReloError {
  override name = "InputError";
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** An import failed on a batch; `finding` is the RpcImportError Sentry would report. */
export class ImportingError extends ReloError {
  override name = "ImportingError";
  /** Byte offset of the entry in the export, when known. */
  offset?: number;
  constructor(readonly finding: Finding) {
    super(prettyFinding(finding));
  }
}

export function importError(
  kind: RpcImportErrorKind,
  on: InstanceID,
  reason: string,
  leftPk: number | null = null,
): ImportingError {
  return new ImportingError({ finding: "RpcImportError", kind, on, left_pk: leftPk, right_pk: null, reason });
}

/** An export failed on a model; `finding` is the RpcExportError Sentry would report. */
export class ExportingError extends ReloError {
  override name = "ExportingError";
  constructor(readonly finding: Finding) {
    super(prettyFinding(finding));
  }
}

export function exportError(kind: RpcExportErrorKind, model: string, reason: string): ExportingError {
  return new ExportingError({
    finding: "RpcExportError",
    kind,
    on: { model, ordinal: null },
    left_pk: null,
    right_pk: null,
    reason,
  });
}
