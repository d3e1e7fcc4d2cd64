/**
 * Where `relo export`, `relo backup sanitize` and `relo backup compare` write: a huge row in its
 * place, an existing DEST's mode, owner and symlink kept, and every path mistake reported in one
 * line with exit status 1 before any work (and without leaving the process running).
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli } from "./helpers/cli.js";
import { writeKeyPair } from "./helpers/crypto.js";
import { describeEachDb, freshDb, type TestDb } from "./helpers/db.js";
import { fixture, importFile, writeExport } from "./helpers/import.js";

const FRESH_INSTALL = fixture("fresh-install.json");
const BIG = 3_000_000;

interface Entry {
  model: string;
  pk: number;
  fields: Record<string, unknown>;
}

function option(pk: number, value: string): Entry {
  return {
    model: "sentry.option",
    pk,
    fields: { key: `k${pk}`, last_updated: "2023-06-27T21:40:01.305Z", last_updated_by: "unknown", value },
  };
}

function readExport(path: string): Entry[] {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** The error line, checked to be the only thing relo said besides "Nothing was changed.". */
function oneLineError(r: { code: number; stderr: string }): string {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe("Nothing was changed.");
  return lines[0];
}

describeEachDb("export and sanitize output files", (kind) => {
  let db: TestDb;
  let dir: string;
  beforeEach(async () => {
    db = await freshDb(kind);
    const store = await db.open();
    try {
      await importFile(store, FRESH_INSTALL, { scope: "Global" });
    } finally {
      await store.close();
    }
    dir = mkdtempSync(join(tmpdir(), "relo-cli-output-"));
  });
  afterEach(() => db.dispose());

  it("writes a row of several MB in its place (export, encrypted export, sanitize)", async () => {
    const src = writeExport([option(1, "small"), option(2, "x".repeat(BIG)), option(3, "small")]);
    const store = await db.open();
    try {
      await importFile(store, src, { scope: "Global" });
    } finally {
      await store.close();
    }
    const out = join(dir, "out.json");
    expect((await cli(["export", "config", out, "--db", db.url, "--silent"])).code).toBe(0);
    const options = readExport(out).filter((e) => e.model === "sentry.option");
    expect(options.map((e) => (e.fields.value as string).length)).toEqual([5, BIG, 5]);

    const keys = writeKeyPair(dir);
    const tar = join(dir, "out.tar");
    const plain = join(dir, "decrypted.json");
    const enc = ["export", "config", tar, "--db", db.url, "--encrypt-with", keys.publicPath];
    expect((await cli(enc)).code).toBe(0);
    expect(
      (await cli(["backup", "decrypt", plain, "--src", tar, "--decrypt-with", keys.privatePath])).code,
    ).toBe(0);
    expect(readExport(plain).filter((e) => e.model === "sentry.option")).toEqual(options);

    const sanitized = join(dir, "sanitized.json");
    expect((await cli(["backup", "sanitize", sanitized, "--src", src])).code).toBe(0);
    expect(readExport(sanitized).map((e) => e.pk)).toEqual([1, 2, 3]);
  });

  it("keeps an existing DEST's mode, for export, encrypted export and sanitize", async () => {
    const keys = writeKeyPair(dir);
    const runs: [string, (dest: string) => string[]][] = [
      ["plain.json", (d) => ["export", "global", d, "--db", db.url]],
      ["enc.tar", (d) => ["export", "global", d, "--db", db.url, "--encrypt-with", keys.publicPath]],
      ["sanitized.json", (d) => ["backup", "sanitize", d, "--src", FRESH_INSTALL]],
    ];
    for (const [name, args] of runs) {
      const dest = join(dir, name);
      writeFileSync(dest, "previous");
      chmodSync(dest, 0o600);
      expect((await cli(args(dest))).code).toBe(0);
      expect(statSync(dest).mode & 0o777).toBe(0o600);
      expect(statSync(dest).size).toBeGreaterThan(1000);
    }
    expect(readdirSync(dir).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("writes through a symlink DEST to its target, and keeps the link", async () => {
    mkdirSync(join(dir, "real"));
    const target = join(dir, "real", "target.json");
    writeFileSync(target, "old");
    chmodSync(target, 0o640);
    const link = join(dir, "link.json");
    symlinkSync("real/target.json", link);
    expect((await cli(["export", "global", link, "--db", db.url])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(readExport(target).length).toBe(34);

    // A dangling link: its target is created.
    const dangling = join(dir, "dangling.json");
    symlinkSync("real/new.json", dangling);
    expect((await cli(["backup", "sanitize", dangling, "--src", FRESH_INSTALL])).code).toBe(0);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readExport(join(dir, "real", "new.json")).length).toBe(34);
  });

  it.skipIf(process.getuid?.() !== 0)("keeps an existing DEST's owner (when run as root)", async () => {
    const dest = join(dir, "owned.json");
    writeFileSync(dest, "previous");
    chownSync(dest, 4321, 4322);
    expect((await cli(["export", "global", dest, "--db", db.url])).code).toBe(0);
    expect([statSync(dest).uid, statSync(dest).gid]).toEqual([4321, 4322]);
  });

  it("gives a new DEST the usual mode", async () => {
    const reference = join(dir, "reference");
    writeFileSync(reference, "");
    const dest = join(dir, "new.json");
    expect((await cli(["export", "global", dest, "--db", db.url])).code).toBe(0);
    expect(statSync(dest).mode & 0o777).toBe(statSync(reference).mode & 0o777);
  });

  it("a DEST in a missing directory is one line, exit 1, before any work", async () => {
    const missing = join(dir, "nope", "out.json");
    const keys = writeKeyPair(dir);
    for (const args of [
      ["export", "global", missing, "--db", db.url],
      ["export", "global", missing, "--db", db.url, "--encrypt-with", keys.publicPath],
      ["backup", "sanitize", missing, "--src", FRESH_INSTALL],
    ]) {
      const line = oneLineError(await cli(args));
      expect(line).toBe(
        `relo: error: cannot write ${missing}: directory ${join(dir, "nope")} does not exist`,
      );
    }
    writeFileSync(join(dir, "file"), "");
    const under = join(dir, "file", "out.json");
    expect(oneLineError(await cli(["export", "global", under, "--db", db.url]))).toMatch(
      /is not a directory$/,
    );
  });

  it("an unwritable --findings-file is one line, exit 1, and no export is written", async () => {
    const dest = join(dir, "out.json");
    const findings = join(dir, "nope", "findings.json");
    const r = await cli(["export", "global", dest, "--db", db.url, "--findings-file", findings]);
    expect(oneLineError(r)).toMatch(/cannot write --findings-file .*: directory .* does not exist$/);
    expect(existsSync(dest)).toBe(false);
    const r2 = await cli(["export", "global", dest, "--db", db.url, "--findings-file", dir]);
    expect(oneLineError(r2)).toMatch(/--findings-file .* is a directory$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("exporting to a directory fails and exits (the database is closed)", async () => {
    const started = Date.now();
    const line = oneLineError(await cli(["export", "global", dir, "--db", db.url]));
    expect(line).toBe(`relo: error: ${dir} is a directory`);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);
});

describe("relo backup encrypt / decrypt DEST", () => {
  it("keeps an existing DEST's mode and symlink, and leaves no staged file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "relo-cli-output-"));
    const keys = writeKeyPair(dir);
    mkdirSync(join(dir, "real"));
    const tar = join(dir, "real", "enc.tar");
    const plain = join(dir, "real", "plain.json");
    for (const target of [tar, plain]) {
      writeFileSync(target, "previous");
      chmodSync(target, 0o640);
      symlinkSync(
        `real/${target.endsWith(".tar") ? "enc.tar" : "plain.json"}`,
        `${target.replace("/real/", "/")}.link`,
      );
    }
    const enc = await cli([
      "backup",
      "encrypt",
      join(dir, "enc.tar.link"),
      "--src",
      FRESH_INSTALL,
      "--encrypt-with",
      keys.publicPath,
    ]);
    expect(enc.code, enc.stderr).toBe(0);
    const dec = await cli([
      "backup",
      "decrypt",
      join(dir, "plain.json.link"),
      "--src",
      tar,
      "--decrypt-with",
      keys.privatePath,
    ]);
    expect(dec.code, dec.stderr).toBe(0);
    for (const target of [tar, plain]) {
      expect(lstatSync(`${target.replace("/real/", "/")}.link`).isSymbolicLink()).toBe(true);
      expect(statSync(target).mode & 0o777).toBe(0o640);
    }
    expect(JSON.parse(readFileSync(plain, "utf8"))).toEqual(JSON.parse(readFileSync(FRESH_INSTALL, "utf8")));
    expect(readdirSync(join(dir, "real")).filter((n) => n.startsWith("."))).toEqual([]);
  });
});

describe("relo backup compare --findings-file", () => {
  it("an unwritable findings file is one line, exit 1, before the exports are read", async () => {
    const findings = join(mkdtempSync(join(tmpdir(), "relo-cli-output-")), "nope", "f.json");
    const r = await cli(["backup", "compare", FRESH_INSTALL, FRESH_INSTALL, "--findings-file", findings]);
    expect(oneLineError(r)).toMatch(/cannot write --findings-file .*: directory .* does not exist$/);
    expect(r.stdout).toBe("");
  });
});
