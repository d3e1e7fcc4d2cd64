/**
 * `relo backup keygen|encrypt|decrypt` as a user runs them, and the decrypt flags of
 * `relo import`: files and standard streams, Sentry's usage errors, nothing written on failure,
 * and no plaintext left behind when interrupted.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  cli,
  type KeyPair,
  leftovers,
  PY_DECRYPT,
  PY_PUBLIC_KEY,
  python,
  tempDir,
  writeKeyPair,
} from "./helpers/crypto.js";
import { fixture } from "./helpers/import.js";

const FRESH_INSTALL = fixture("fresh-install.json");
const ROOT = resolve(import.meta.dirname, "..");

let dir: string;
let tmp: string;
let keys: KeyPair;
beforeAll(() => {
  dir = tempDir();
  tmp = tempDir("relo-crypto-tmpdir-");
  keys = writeKeyPair(dir);
});

describe("relo backup keygen", () => {
  it("writes a 4096-bit pair by default: a private PKCS#8 key only the owner reads, and its public key", async () => {
    const priv = join(dir, "gen.pem");
    const pub = join(dir, "gen.pub");
    const r = await cli(["backup", "keygen", priv, pub]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Wrote a 4096-bit RSA key pair");
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(readFileSync(priv, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(pub).equals(python(PY_PUBLIC_KEY, [priv]))).toBe(true);
    const bits = python(
      `import sys
from cryptography.hazmat.primitives import serialization
print(serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None).key_size)`,
      [priv],
    );
    expect(bits.toString().trim()).toBe("4096");
  });

  it("takes --bits, and its keys work for encrypt and decrypt", async () => {
    const priv = join(dir, "small.pem");
    const pub = join(dir, "small.pub");
    expect((await cli(["backup", "keygen", priv, pub, "--bits", "2048"])).code).toBe(0);
    const tar = join(dir, "small.tar");
    const out = join(dir, "small.json");
    expect((await cli(["backup", "encrypt", tar, "--src", FRESH_INSTALL, "--encrypt-with", pub])).code).toBe(
      0,
    );
    expect((await cli(["backup", "decrypt", out, "--src", tar, "--decrypt-with", priv])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toHaveLength(34);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("never overwrites a key, and refuses silly sizes", async () => {
    const r = await cli(["backup", "keygen", keys.privatePath, join(dir, "new.pub")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${keys.privatePath} already exists; keygen never overwrites a key`);
    expect(existsSync(join(dir, "new.pub"))).toBe(false);
    const small = await cli(["backup", "keygen", join(dir, "a.pem"), join(dir, "a.pub"), "--bits", "1024"]);
    expect(small.code).not.toBe(0);
    expect(small.stderr).toContain("must be a whole number of bits from 2048 to 16384.");
  });
});

describe("relo backup encrypt / decrypt", () => {
  it("work through standard input and output", async () => {
    const input = readFileSync(FRESH_INSTALL);
    const enc = await cli(["backup", "encrypt", "-", "--src", "-", "--encrypt-with", keys.publicPath], {
      input,
    });
    expect(enc.code).toBe(0);
    expect(enc.stdout.length % 10240).toBe(0);
    const dec = await cli(["backup", "decrypt", "-", "--src", "-", "--decrypt-with", keys.privatePath], {
      input: enc.stdout,
    });
    expect(dec.stderr).toBe("");
    expect(dec.code).toBe(0);
    expect(JSON.parse(dec.stdout.toString())).toEqual(JSON.parse(input.toString()));
  });

  it("encrypt keeps numbers as written while removing whitespace", async () => {
    const src = join(dir, "numbers.json");
    writeFileSync(
      src,
      '[\n  {"model": "sentry.option", "pk": 1, "fields": {"value": 100.0, "big": 1e+16}}\n]',
    );
    const tar = join(dir, "numbers.tar");
    expect(
      (await cli(["backup", "encrypt", tar, "--src", src, "--encrypt-with", keys.publicPath])).code,
    ).toBe(0);
    expect(python(PY_DECRYPT, [tar, keys.privatePath]).toString()).toBe(
      '[{"model":"sentry.option","pk":1,"fields":{"value":100.0,"big":1e+16}}]',
    );
  });

  it("encrypt rejects invalid JSON at its byte offset, writing nothing", async () => {
    const src = join(dir, "broken.json");
    writeFileSync(src, '[{"model": "sentry.user", "pk": 1,, "fields": {}}]');
    const tar = join(dir, "broken.tar");
    const r = await cli(["backup", "encrypt", tar, "--src", src, "--encrypt-with", keys.publicPath], {
      env: { TMPDIR: tmp },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relo: error: Invalid input JSON: invalid JSON at byte 34: /);
    expect(existsSync(tar)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes("broken.tar"))).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
  });

  it("encrypt refuses a private key given as --encrypt-with", async () => {
    const r = await cli([
      "backup",
      "encrypt",
      "-",
      "--src",
      FRESH_INSTALL,
      "--encrypt-with",
      keys.privatePath,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${keys.privatePath} holds a private key; encrypting takes the public key`);
    expect(r.stdout.length).toBe(0);
  });

  it("have Sentry's usage errors when no key is given", async () => {
    const enc = await cli(["backup", "encrypt", "-", "--src", FRESH_INSTALL]);
    expect(enc.code).toBe(1);
    expect(enc.stderr).toContain("You must specify one of `--encrypt-with` or `--encrypt-with-gcp-kms`.");
    const dec = await cli(["backup", "decrypt", "-", "--src", FRESH_INSTALL]);
    expect(dec.code).toBe(1);
    expect(dec.stderr).toContain("You must specify one of `--decrypt-with` or `--decrypt-with-gcp-kms`.");
  });

  it("say which key file cannot be read", async () => {
    const r = await cli([
      "backup",
      "decrypt",
      "-",
      "--src",
      FRESH_INSTALL,
      "--decrypt-with",
      join(dir, "nope.pem"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read --decrypt-with ${join(dir, "nope.pem")}: no such file`);
  });

  it("decrypt accepts a key.pub with CRLF line endings (Sentry compares bytes and refuses it)", async () => {
    const crlf = join(dir, "crlf.pub");
    writeFileSync(crlf, keys.publicPem.toString().replace(/\n/g, "\r\n"));
    const tar = join(dir, "crlf.tar");
    expect((await cli(["backup", "encrypt", tar, "--src", FRESH_INSTALL, "--encrypt-with", crlf])).code).toBe(
      0,
    );
    // relo writes key.pub in the canonical form, so Sentry's byte comparison passes too.
    expect(python(PY_DECRYPT, [tar, keys.privatePath]).length).toBeGreaterThan(0);
  });
});

describe("relo import and encrypted tarballs", () => {
  it("says to pass a decrypt flag when given a tarball without one", async () => {
    const tar = join(dir, "hint.tar");
    expect(
      (await cli(["backup", "encrypt", tar, "--src", FRESH_INSTALL, "--encrypt-with", keys.publicPath])).code,
    ).toBe(0);
    const r = await cli(["import", "users", tar, "--db", join(dir, "hint.db"), "--no-prompt"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${tar} is an encrypted tarball: pass --decrypt-with or --decrypt-with-gcp-kms to decrypt it`,
    );
  });
});

describe("interrupted decryption", () => {
  it("removes the private temporary directory on SIGINT", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/bin.ts",
        "backup",
        "decrypt",
        "-",
        "--src",
        "-",
        "--decrypt-with",
        keys.privatePath,
      ],
      { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ["pipe", "pipe", "pipe"] },
    );
    // Standard input stays open: relo is spooling it into its private directory when interrupted.
    child.stdin.write(Buffer.alloc(4096));
    const appeared = Date.now();
    while (leftovers(tmp).length === 0) {
      if (Date.now() - appeared > 30_000) throw new Error("relo never created its temporary directory");
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = new Promise<NodeJS.Signals | null>((done) =>
      child.on("exit", (_c, signal) => done(signal)),
    );
    child.kill("SIGINT");
    expect(await exited).toBe("SIGINT");
    expect(leftovers(tmp)).toEqual([]);
  });
});
