/**
 * `relo import` as a user runs it: a subprocess against a temporary database. Bad inputs exit 1
 * with one clear message (model, ordinal, byte offset; no stack trace) and change nothing; the
 * findings file, the Global confirmation (import.md §16 item 41), --silent and the IntegrityError
 * hints (item 48).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { BIN, type CliResult, cli, ROOT } from "./helpers/cli.js";
import { describeEachDb, freshDb, type TestDb } from "./helpers/db.js";
import { count, fixture, importFile, rows, snapshot, writeExport } from "./helpers/import.js";

const TABLES = registry.ordered.map((m) => m.table);
const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;
// In CI a missing `script` must fail the prompt test, not skip it.
if (!HAS_SCRIPT && process.env.CI === "true")
  throw new Error("CI=true but util-linux `script` is not installed");

/** Runs `relo ARGS` on a pseudo-terminal (util-linux `script`), typing `answer` at the first y/N prompt. */
function cliOnTerminal(args: string[], answer: string): Promise<CliResult> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, ...BIN, ...args].map(quote).join(" ");
  return new Promise((done, fail) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let answered = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (!answered && stdout.includes("(y/N)")) {
        answered = true;
        child.stdin.write(answer);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr: "" });
    });
  });
}

function tempPath(name: string): string {
  return join(mkdtempSync(join(tmpdir(), "relo-cli-")), name);
}

const user = (pk: number, username: string, extra: Record<string, unknown> = {}) => ({
  model: "sentry.user",
  pk,
  fields: { password: "pbkdf2_sha256$1$salt$hash", username, name: "", email: `${pk}@example.com`, ...extra },
});
const option = (pk: number, key: string) => ({
  model: "sentry.option",
  pk,
  fields: { key, last_updated: "2023-06-22T00:00:00.000Z", last_updated_by: "unknown", value: '"v"' },
});

interface BadInput {
  name: string;
  subcommand: string;
  content: () => string;
  /** What stderr must say (model, ordinal, byte offset). */
  says: RegExp[];
  /** The RpcImportError kind written to the findings file; none for input errors. */
  kind?: string;
}

const BAD_INPUTS: BadInput[] = [
  {
    name: "truncated JSON",
    subcommand: "organizations",
    content: () => readFileSync(fixture("fresh-install.json"), "utf8").slice(0, 300),
    says: [/invalid JSON at byte 300: unexpected end of input/, /array element \d+/],
  },
  {
    name: "JSON that is not an array",
    subcommand: "organizations",
    content: () => JSON.stringify({ model: "sentry.user", pk: 1, fields: {} }),
    says: [/invalid JSON at byte 0: expected '\[' to start the top-level array/],
  },
  {
    name: "an object without model",
    subcommand: "config",
    content: () => JSON.stringify([option(1, "a"), { pk: 2, fields: {} }]),
    says: [/entry 2 \(byte \d+\) has no "model"/],
  },
  {
    name: "an object without pk",
    subcommand: "config",
    content: () =>
      JSON.stringify([option(1, "a"), { model: "sentry.option", fields: option(2, "b").fields }]),
    says: [/entry 2 \(byte \d+\) \(sentry\.option\) has no "pk"/],
  },
  {
    name: "an unknown model",
    subcommand: "config",
    content: () => JSON.stringify([option(1, "a"), { model: "sentry.nope", pk: 1, fields: {} }]),
    says: [/UnknownModel in sentry\.nope/, /entry 2 \(byte \d+\)/],
    kind: "UnknownModel",
  },
  {
    name: "a field of the wrong type",
    subcommand: "users",
    content: () => JSON.stringify([user(1, "ok"), user(2, "bad", { is_staff: "yes" })]),
    says: [/DeserializationFailed in sentry\.user #2 \(pk 2\) at byte \d+: .*is_staff/],
    kind: "DeserializationFailed",
  },
  {
    name: "an invalid IP address (sentry.userip, Global scope)",
    subcommand: "global",
    content: () =>
      JSON.stringify([
        user(1, "ipuser"),
        {
          model: "sentry.userip",
          pk: 1,
          fields: {
            user: 1,
            ip_address: "999.1.1.1",
            first_seen: "2024-01-01T00:00:00.000Z",
            last_seen: "2024-01-01T00:00:00.000Z",
          },
        },
      ]),
    says: [/ValidationError in sentry\.userip #1 \(pk 1\) at byte \d+: Django validation error encountered/],
    kind: "ValidationError",
  },
  {
    name: "a 200-character username",
    subcommand: "users",
    content: () => JSON.stringify([user(1, "u".repeat(200))]),
    says: [/ValidationError in sentry\.user #1 \(pk 1\) at byte \d+: .*username.*128/],
    kind: "ValidationError",
  },
  {
    name: "a foreign key to a row not in the file",
    subcommand: "organizations",
    content: () =>
      JSON.stringify([
        { model: "sentry.organization", pk: 1, fields: { name: "Acme", slug: "acme" } },
        { model: "sentry.project", pk: 1, fields: { name: "Web", slug: "web", organization: 7 } },
      ]),
    says: [
      /ValidationError in sentry\.project #1 \(pk 1\) at byte \d+: .*sentry\.organization pk 7.*not in the export/,
    ],
    kind: "ValidationError",
  },
  {
    name: "an empty file",
    subcommand: "organizations",
    content: () => "",
    says: [/invalid JSON at byte 0: empty input/],
  },
];

describeEachDb("relo import CLI", (kind) => {
  let db: TestDb;
  let store: Store;
  beforeEach(async () => {
    db = await freshDb(kind);
    store = await db.open();
    // Not empty: a failed import must leave earlier data exactly as it was.
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
  });
  afterEach(async () => {
    await store.close();
    await db.dispose();
  });

  for (const bad of BAD_INPUTS) {
    it(`rejects ${bad.name}: exit 1, a clear message, no stack trace, nothing changed`, async () => {
      const before = await snapshot(store, TABLES);
      const findings = tempPath("findings.json");
      const path = writeExport(bad.content());
      const r = await cli([
        "import",
        bad.subcommand,
        path,
        "--db",
        db.url,
        "--no-prompt",
        "--findings-file",
        findings,
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^relo: error: /m);
      for (const re of bad.says) expect(r.stderr).toMatch(re);
      expect(r.stderr).toContain("Nothing was changed.");
      expect(r.stderr).not.toMatch(/^ {4}at /m);
      expect(r.stderr).not.toContain("internal error");
      expect(await snapshot(store, TABLES)).toBe(before);
      if (bad.kind) {
        const written = JSON.parse(readFileSync(findings, "utf8"));
        expect(written).toHaveLength(1);
        expect(written[0]).toMatchObject({ finding: "RpcImportError", kind: bad.kind });
      } else {
        expect(existsSync(findings)).toBe(false);
      }
    });
  }

  it("imports an empty array ([]) successfully, writing nothing", async () => {
    const before = await snapshot(store, TABLES);
    const findings = tempPath("findings.json");
    const r = await cli([
      "import",
      "organizations",
      writeExport("[]"),
      "--db",
      db.url,
      "--findings-file",
      findings,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(findings, "utf8")).toBe("[]");
    expect(await snapshot(store, TABLES)).toBe(before);
  });

  it("#49 --findings-file gets [] on success", async () => {
    const findings = tempPath("findings.json");
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      db.url,
      "--findings-file",
      findings,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(findings, "utf8")).toBe("[]");
    expect(await count(store, "sentry_organization")).toBe(2);
  });

  it("an unwritable --findings-file, --report-file or --mapping-file is one line, exit 1, before anything is imported", async () => {
    const before = await snapshot(store, TABLES);
    for (const flag of ["--findings-file", "--report-file", "--mapping-file"]) {
      const path = join(tempPath("gone"), "out.json");
      const r = await cli([
        "import",
        "organizations",
        fixture("fresh-install.json"),
        "--db",
        db.url,
        flag,
        path,
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split("\n")).toEqual([
        `relo: error: cannot write ${flag} ${path}: directory ${dirname(path)} does not exist`,
        "Nothing was changed.",
      ]);
      expect(await snapshot(store, TABLES)).toBe(before);
    }
  });

  it("#49 --findings-file gets a one-element RpcImportError array on an import error", async () => {
    const findings = tempPath("findings.json");
    const r = await cli([
      "import",
      "users",
      writeExport([user(1, "u".repeat(200))]),
      "--db",
      db.url,
      "--findings-file",
      findings,
    ]);
    expect(r.code).toBe(1);
    const written = JSON.parse(readFileSync(findings, "utf8"));
    expect(written).toEqual([
      {
        finding: "RpcImportError",
        kind: "ValidationError",
        left_pk: 1,
        on: { model: "sentry.user", ordinal: 1 },
        reason: expect.stringContaining("username"),
        right_pk: null,
      },
    ]);
    // The pretty() block is printed too.
    expect(r.stderr).toContain(
      "RpcImportError(\n    kind: ValidationError,\n    on: InstanceID(model: 'sentry.user', ordinal: 1),",
    );
  });

  it("#48 an IntegrityError prints the four >> hint lines on stderr", async () => {
    const team = (pk: number) => ({
      model: "sentry.team",
      pk,
      fields: { organization: 1, slug: "same", name: `T${pk}`, status: 0 },
    });
    const path = writeExport([
      { model: "sentry.organization", pk: 1, fields: { name: "Acme", slug: "acme" } },
      team(1),
      team(2),
    ]);
    const before = await snapshot(store, TABLES);
    const r = await cli(["import", "organizations", path, "--db", db.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("kind: IntegrityError");
    expect(r.stderr).toContain(
      [
        ">> Are you restoring from a backup of the same version of Sentry?",
        ">> Are you restoring onto a clean database?",
        ">> If so then this IntegrityError might be our fault, you can open an issue here:",
        ">> https://github.com/getsentry/sentry/issues/new/choose",
      ].join("\n"),
    );
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(await snapshot(store, TABLES)).toBe(before);
  });

  it("import global without --no-prompt and without a terminal fails clearly and changes nothing", async () => {
    const before = await snapshot(store, TABLES);
    const r = await cli(["import", "global", fixture("user-with-minimum-privileges.json"), "--db", db.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Cannot ask for confirmation without a terminal");
    expect(r.stderr).toContain("--no-prompt");
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(await snapshot(store, TABLES)).toBe(before);
  });

  it.skipIf(!HAS_SCRIPT)(
    '#41 import global answered "no" prints "Import cancelled." and leaves the database unchanged',
    async () => {
      const before = await snapshot(store, TABLES);
      const r = await cliOnTerminal(
        ["import", "global", fixture("user-with-minimum-privileges.json"), "--db", db.url],
        "n\r",
      );
      expect(r.stdout).toContain("irrecoverably delete");
      expect(r.stdout).toContain("Import cancelled.");
      expect(r.code, r.stdout).toBe(0);
      expect(await snapshot(store, TABLES)).toBe(before);
      expect(await count(store, "auth_user")).toBe(3);
    },
  );

  it("import global --no-prompt replaces the database", async () => {
    const r = await cli([
      "import",
      "global",
      fixture("user-with-minimum-privileges.json"),
      "--db",
      db.url,
      "--no-prompt",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((await rows(store, "auth_user")).map((u) => u.username)).toEqual(["min_user"]);
  });

  it("--silent prints nothing on success", async () => {
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      db.url,
      "--silent",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("");
    expect(await count(store, "sentry_organization")).toBe(2);
  });
});
