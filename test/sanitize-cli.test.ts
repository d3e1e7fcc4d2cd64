/**
 * `relo backup sanitize` as a user runs it: files and standard streams, encrypted input and
 * output (the output decrypted the way Sentry decrypts), `--days-offset`, and every failure as one
 * line with exit status 1 and nothing written.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDatetime } from "../src/backup/sanitize/datetimes.js";
import {
  cli,
  type KeyPair,
  PY_DECRYPT,
  PY_ENCRYPT,
  python,
  tempDir,
  writeKeyPair,
} from "./helpers/crypto.js";
import { fixture } from "./helpers/import.js";

const ROOT = resolve(import.meta.dirname, "..");
const FRESH_INSTALL = fixture("fresh-install.json");
const ORIGINAL = JSON.parse(readFileSync(FRESH_INSTALL, "utf8")) as { fields: Record<string, unknown> }[];
const SECRETS = [
  "admin@example.com",
  "example.com",
  "pbkdf2_sha256",
  "c1373be35a7944808c8bcfede8097df1",
  "Testing",
];

let dir: string;
let keys: KeyPair;
beforeAll(() => {
  dir = tempDir("relo-sanitize-test-");
  keys = writeKeyPair(dir);
});

function noSecrets(text: string): void {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

describe("relo backup sanitize", () => {
  it("writes DEST, with a summary on stderr and nothing on stdout", async () => {
    const dest = join(dir, "plain.json");
    const r = await cli(["backup", "sanitize", dest, "--src", FRESH_INSTALL]);
    expect(r.stderr).toBe(`Sanitized 34 entries of 19 models to ${dest}.\n`);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
    const text = readFileSync(dest, "utf8");
    expect(JSON.parse(text)).toHaveLength(ORIGINAL.length);
    expect(text).toMatch(/^\[\n {2}\{\n {4}"model": "sentry.option",/);
    expect(text).toMatch(/"date_added": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z"/);
    noSecrets(text);
  });

  it("reads standard input and writes standard output (`-`), leaving no copy of the input behind", async () => {
    const tmp = tempDir("relo-sanitize-tmpdir-");
    const r = await cli(["backup", "sanitize", "-", "--src", "-"], {
      input: readFileSync(FRESH_INSTALL),
      env: { TMPDIR: tmp },
    });
    expect(readdirSync(tmp).filter((name) => !name.startsWith("tsx-"))).toEqual([]); // tsx caches its builds there
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("Sanitized 34 entries of 19 models to standard output.\n");
    const text = r.stdout.toString("utf8");
    expect(JSON.parse(text)).toHaveLength(ORIGINAL.length);
    noSecrets(text);
  });

  it("decrypts a tarball Sentry wrote and writes one Sentry decrypts: compact JSON, +00:00 datetimes", async () => {
    const tar = join(dir, "sentry.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, keys.publicPath, tar]);
    const dest = join(dir, "sanitized.tar");
    const r = await cli([
      "backup",
      "sanitize",
      dest,
      "--src",
      tar,
      "--decrypt-with",
      keys.privatePath,
      "--encrypt-with",
      keys.publicPath,
    ]);
    expect(r.stderr).toBe(`Sanitized 34 entries of 19 models to ${dest}.\n`);
    expect(r.code).toBe(0);
    const payload = python(PY_DECRYPT, [dest, keys.privatePath]).toString("utf8");
    expect(payload.startsWith('[{"model":"sentry.option","pk":1,"fields":{')).toBe(true);
    expect(payload).not.toContain("\n");
    expect(payload).toMatch(/"date_added":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00"/);
    expect(JSON.parse(payload)).toHaveLength(ORIGINAL.length);
    noSecrets(payload);
  });

  it("moves datetimes by --days-offset, which may be negative", async () => {
    const dest = join(dir, "offset.json");
    const r = await cli(["backup", "sanitize", dest, "--src", FRESH_INSTALL, "--days-offset", "-1234"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(dest, "utf8")) as { fields: Record<string, unknown> }[];
    let checked = 0;
    for (const [i, row] of ORIGINAL.entries()) {
      for (const name of ["date_added", "date_joined", "last_updated", "created_at"]) {
        const before = row.fields[name];
        if (typeof before !== "string") continue;
        const after = out[i].fields[name] as string;
        const days = ((parseDatetime(after) as number) - (parseDatetime(before) as number)) / 86_400e6;
        // Jitter stays within half the gap to the neighbouring datetimes (at most 3 days here).
        expect(Math.abs(days + 1234)).toBeLessThan(3);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("refuses a --days-offset that is not a whole number", async () => {
    const r = await cli([
      "backup",
      "sanitize",
      join(dir, "x.json"),
      "--src",
      FRESH_INSTALL,
      "--days-offset",
      "1.5",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("must be a whole number of days");
    expect(existsSync(join(dir, "x.json"))).toBe(false);
  });
});

describe("relo backup sanitize failures: one line, exit status 1, nothing written", () => {
  it("invalid JSON names the byte offset, and an existing DEST is left as it was", async () => {
    const src = join(dir, "broken.json");
    writeFileSync(src, '[{"model": "sentry.email", "pk": 1, "fields": {}},\n {"model": nope}]');
    const dest = join(dir, "kept.json");
    writeFileSync(dest, "previous");
    const r = await cli(["backup", "sanitize", dest, "--src", src]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "relo: error: Invalid JSON: invalid JSON at byte 63: unexpected 'o' (array element 1)\nNothing was changed.\n",
    );
    expect(readFileSync(dest, "utf8")).toBe("previous");
  });

  it("a value its rule cannot take names the model, pk and byte", async () => {
    const src = join(dir, "baddate.json");
    writeFileSync(
      src,
      '[{"model": "sentry.email", "pk": 3, "fields": {"email": "a@b.c", "date_added": "soon"}}]',
    );
    const dest = join(dir, "baddate.out.json");
    const r = await cli(["backup", "sanitize", dest, "--src", src]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "relo: error: Cannot sanitize sentry.email (array element 0, pk 3) at byte 1: field `date_added`: Existing value must be a valid ISO-8601 datetime string",
    );
    expect(existsSync(dest)).toBe(false);
  });

  it("a bad tarball is `Invalid tarball: ...`", async () => {
    const dest = join(dir, "never.json");
    const notTar = await cli([
      "backup",
      "sanitize",
      dest,
      "--src",
      FRESH_INSTALL,
      "--decrypt-with",
      keys.privatePath,
    ]);
    expect(notTar.code).toBe(1);
    expect(notTar.stderr).toMatch(/^relo: error: Invalid tarball: this is not a tar archive/);
    const other = writeKeyPair(dir, "other");
    const tar = join(dir, "other.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, keys.publicPath, tar]);
    const wrongKey = await cli([
      "backup",
      "sanitize",
      dest,
      "--src",
      tar,
      "--decrypt-with",
      other.privatePath,
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain("Invalid tarball: The public key does not match");
    expect(existsSync(dest)).toBe(false);
  });

  it("a tarball without a decrypt flag, or both flags of a pair, is a usage error", async () => {
    const tar = join(dir, "plain.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, keys.publicPath, tar]);
    const dest = join(dir, "never2.json");
    const noFlag = await cli(["backup", "sanitize", dest, "--src", tar]);
    expect(noFlag.code).toBe(1);
    expect(noFlag.stderr).toContain("is an encrypted tarball: pass --decrypt-with or --decrypt-with-gcp-kms");
    const both = await cli([
      "backup",
      "sanitize",
      dest,
      "--src",
      FRESH_INSTALL,
      "--encrypt-with",
      keys.publicPath,
      "--encrypt-with-gcp-kms",
      join(dir, "kms.json"),
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("`--encrypt-with` and `--encrypt-with-gcp-kms` are mutually exclusive");
    expect(existsSync(dest)).toBe(false);
  });

  it("a missing source", async () => {
    const r = await cli(["backup", "sanitize", join(dir, "never3.json"), "--src", join(dir, "nope.json")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relo: error: cannot read .*nope\.json: no such file\n/);
  });
});

describe("interrupted while reading standard input", () => {
  it("removes its private copy of the unsanitized input on SIGINT", async () => {
    const tmp = tempDir("relo-sanitize-tmpdir-");
    const copies = () => readdirSync(tmp).filter((name) => name.startsWith("relo-sanitize-"));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/bin.ts", "backup", "sanitize", "-", "--src", "-"],
      { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ["pipe", "pipe", "pipe"] },
    );
    // Standard input stays open: relo is copying it when interrupted.
    child.stdin.write(readFileSync(FRESH_INSTALL).subarray(0, 1000));
    const started = Date.now();
    while (copies().length === 0) {
      if (Date.now() - started > 30_000) throw new Error("relo never made its private copy");
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = new Promise<NodeJS.Signals | null>((done) =>
      child.on("exit", (_c, signal) => done(signal)),
    );
    child.kill("SIGINT");
    expect(await exited).toBe("SIGINT");
    expect(copies()).toEqual([]);
  });
});
