/**
 * Errors and findings: import.md §16 items 43-50 (importByModel's checks, error kinds, the
 * findings file and `pretty()`). Where relo deliberately differs from Sentry, the test name says so.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ImportingError } from "../src/backup/errors.js";
import { type Finding, findingsJson, prettyFinding, writeFindingsFile } from "../src/backup/findings.js";
import { type ImportByModelArgs, importByModel } from "../src/backup/import/by-model.js";
import { PrimaryKeyMap } from "../src/backup/pkmap.js";
import { registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, finding, fixture, importFile, snapshot, writeExport } from "./helpers/import.js";

const TABLES = registry.ordered.map((m) => m.table);
const UUID = "fedcba9876543210fedcba9876543210";
const DESERIALIZATION_PREFIX = "The submitted JSON could not be deserialized into Django model instances.";

const user = (pk: number | null, username: string, extra: Record<string, unknown> = {}) => ({
  model: "sentry.user",
  pk,
  fields: {
    password: "pbkdf2_sha256$1$salt$hash",
    username,
    name: "",
    email: "someone@example.com",
    ...extra,
  },
});

function tempPath(name: string): string {
  return join(mkdtempSync(join(tmpdir(), "relo-findings-")), name);
}

describeEachDb("import errors", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  const batch = (overrides: Partial<ImportByModelArgs> = {}): ImportByModelArgs => ({
    model: "sentry.user",
    scope: "User",
    flags: { importUuid: UUID },
    pkMap: new PrimaryKeyMap(),
    json: JSON.stringify([user(1, "alice")]),
    minOrdinal: 1,
    ...overrides,
  });

  /** Nothing at all was written: no user and no import chunk. */
  async function expectNothingWritten(): Promise<void> {
    expect(await count(store, "auth_user")).toBe(0);
    expect(await count(store, "sentry_controlimportchunk")).toBe(0);
    expect(await count(store, "sentry_regionimportchunk")).toBe(0);
  }

  it("#43 importByModel with min_ordinal 0 returns InvalidMinOrdinal", async () => {
    const f = await finding(importByModel(store, batch({ minOrdinal: 0 })));
    expect(f).toEqual({
      finding: "RpcImportError",
      kind: "InvalidMinOrdinal",
      on: { model: "sentry.user", ordinal: null },
      left_pk: null,
      right_pk: null,
      reason: "The model `sentry.user` was offset with an invalid `min_ordinal` of `0`",
    });
    const negative = await finding(importByModel(store, batch({ minOrdinal: -3 })));
    expect(negative.reason).toBe("The model `sentry.user` was offset with an invalid `min_ordinal` of `-3`");
    await expectNothingWritten();
  });

  it("#44 importByModel with an unknown model name returns UnknownModel", async () => {
    const f = await finding(importByModel(store, batch({ model: "sentry.nope" })));
    expect(f.kind).toBe("UnknownModel");
    expect(f.on).toEqual({ model: "sentry.nope", ordinal: null });
    expect(f.reason).toBe("The model `sentry.nope` could not be found");
    await expectNothingWritten();
  });

  it("#45 importByModel without import_uuid returns MissingImportUUID; without scope, UnspecifiedScope", async () => {
    const noUuid = await finding(importByModel(store, batch({ flags: {} })));
    expect(noUuid.kind).toBe("MissingImportUUID");
    expect(noUuid.reason).toBe("Must specify `import_uuid` when importing");
    const noScope = await finding(importByModel(store, batch({ scope: null })));
    expect(noScope.kind).toBe("UnspecifiedScope");
    expect(noScope.reason).toBe("The RPC was called incorrectly, please set an `ImportScope` parameter");
    // Sentry checks the scope before the import id.
    const neither = await finding(importByModel(store, batch({ scope: null, flags: {} })));
    expect(neither.kind).toBe("UnspecifiedScope");
    await expectNothingWritten();
  });

  it("#46 a sentry.user batch holding a sentry.useremail returns UnexpectedModel", async () => {
    const json = JSON.stringify([
      user(1, "alice"),
      { model: "sentry.useremail", pk: 5, fields: { user: 1, email: "someone@example.com" } },
    ]);
    const f = await finding(importByModel(store, batch({ json })));
    expect(f.kind).toBe("UnexpectedModel");
    expect(f.reason).toBe("Received model of kind `sentry.useremail` when `sentry.user` was expected");
    expect(f.left_pk).toBe(5);
    expect(f.on.ordinal).toBeNull();
    await expectNothingWritten();
    expect(await count(store, "sentry_useremail")).toBe(0);
  });

  it("#47 a batch with malformed model JSON returns DeserializationFailed", async () => {
    for (const json of ["[{", '{"model": "sentry.user"}', JSON.stringify([{ pk: 1, fields: {} }])]) {
      const f = await finding(importByModel(store, batch({ json })));
      expect(f.kind, json).toBe("DeserializationFailed");
      expect(f.on.model).toBe("sentry.user");
      expect(f.reason.startsWith(DESERIALIZATION_PREFIX), f.reason).toBe(true);
    }
    await expectNothingWritten();
  });

  it("#47 a field of the wrong type is DeserializationFailed with the same reason prefix (batch and whole import)", async () => {
    const json = JSON.stringify([user(1, "alice", { is_staff: "yes" })]);
    const f = await finding(importByModel(store, batch({ json })));
    expect(f.kind).toBe("DeserializationFailed");
    expect(f.reason.startsWith(DESERIALIZATION_PREFIX), f.reason).toBe(true);
    expect(f.reason).toContain("is_staff");
    const whole = await finding(
      importFile(store, writeExport([user(1, "alice", { is_staff: "yes" })]), { scope: "User" }),
    );
    expect(whole.kind).toBe("DeserializationFailed");
    expect(whole.reason.startsWith(DESERIALIZATION_PREFIX), whole.reason).toBe(true);
    await expectNothingWritten();
  });

  it("#48 a unique-constraint violation no import chunk explains is an IntegrityError and nothing is kept", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const before = await snapshot(store, TABLES);
    const team = (pk: number) => ({
      model: "sentry.team",
      pk,
      fields: { organization: 1, slug: "same", name: `Team ${pk}`, status: 0 },
    });
    const path = writeExport([
      { model: "sentry.organization", pk: 1, fields: { name: "Acme", slug: "acme" } },
      team(1),
      team(2),
    ]);
    const f = await finding(importFile(store, path, { scope: "Organization" }));
    expect(f.kind).toBe("IntegrityError");
    expect(f.on.model).toBe("sentry.team");
    expect(f.reason).not.toBe("");
    expect(await snapshot(store, TABLES)).toBe(before);
  });

  it("#49 on an ImportingError the findings file holds one RpcImportError; on success it holds []", async () => {
    const err = await importFile(store, writeExport([user(1, "u".repeat(200))]), { scope: "User" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportingError);
    const failed = tempPath("findings.json");
    writeFindingsFile(failed, [(err as ImportingError).finding]);
    const written = JSON.parse(readFileSync(failed, "utf8"));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ finding: "RpcImportError", kind: "ValidationError", right_pk: null });
    expect(written[0].on.model).toBe("sentry.user");
    expect(written[0].reason).toContain("username");
    expect(Object.keys(written[0])).toEqual(["finding", "kind", "left_pk", "on", "reason", "right_pk"]);
    const ok = tempPath("ok.json");
    writeFindingsFile(ok, []);
    expect(readFileSync(ok, "utf8")).toBe("[]");
  });

  it("#50 (relo) a real error's ordinal is the failing entry's own ordinal and left_pk its pk (Sentry: last good ordinal, no pk)", async () => {
    const path = writeExport([user(3, "alice"), user(7, "x".repeat(200)), user(9, "carol")]);
    const err = await importFile(store, path, { scope: "User" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportingError);
    const f = (err as ImportingError).finding;
    expect(f.kind).toBe("ValidationError");
    expect(f.on).toEqual({ model: "sentry.user", ordinal: 2 });
    expect(f.left_pk).toBe(7);
    expect((err as ImportingError).message).toBe(prettyFinding(f));
    expect(prettyFinding(f)).toContain(
      "on: InstanceID(model: 'sentry.user', ordinal: 2),\n    left_pk: 7,\n    reason: ",
    );
    expect(await count(store, "auth_user")).toBe(0);
  });
});

describe("findings rendering", () => {
  it("#49 the findings JSON has sorted keys, indent 2 and ASCII escapes", () => {
    const f: Finding = {
      finding: "RpcImportError",
      kind: "ValidationError",
      on: { model: "sentry.user", ordinal: 2 },
      left_pk: 7,
      right_pk: null,
      reason: "café",
    };
    expect(findingsJson([f])).toBe(
      [
        "[",
        "  {",
        '    "finding": "RpcImportError",',
        '    "kind": "ValidationError",',
        '    "left_pk": 7,',
        '    "on": {',
        '      "model": "sentry.user",',
        '      "ordinal": 2',
        "    },",
        '    "reason": "caf\\u00e9",',
        '    "right_pk": null',
        "  }",
        "]",
      ].join("\n"),
    );
    expect(findingsJson([])).toBe("[]");
  });

  it("#50 pretty() of an error with ordinal 0 and no left_pk has no ordinal and no left_pk line", () => {
    const f: Finding = {
      finding: "RpcImportError",
      kind: "ValidationError",
      on: { model: "sentry.user", ordinal: 0 },
      left_pk: null,
      right_pk: null,
      reason: "Django validation error encountered: {'username': ['too long']}",
    };
    expect(prettyFinding(f)).toBe(
      "RpcImportError(\n    kind: ValidationError,\n    on: InstanceID(model: 'sentry.user'),\n    reason: Django validation error encountered: {'username': ['too long']}\n)",
    );
    expect(prettyFinding({ ...f, on: { model: "sentry.user", ordinal: null }, reason: "" })).toBe(
      "RpcImportError(\n    kind: ValidationError,\n    on: InstanceID(model: 'sentry.user')\n)",
    );
    expect(
      prettyFinding({ ...f, on: { model: "sentry.user", ordinal: 3 }, left_pk: 4, right_pk: 5, reason: "r" }),
    ).toBe(
      "RpcImportError(\n    kind: ValidationError,\n    on: InstanceID(model: 'sentry.user', ordinal: 3),\n    left_pk: 4,\n    right_pk: 5,\n    reason: r\n)",
    );
  });
});
