/**
 * Interop with Python's `cryptography` doing what Sentry does (see helpers/crypto.ts): a tarball
 * made by Python decrypts and imports in relo, one made by relo decrypts in Python, and relo
 * derives the same public key PEM, byte for byte.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptToTempFile,
  encryptToFile,
  generateRsaKeyPair,
  localDecryptor,
  localEncryptor,
} from "../src/backup/crypto/index.js";
import { loadPrivateKey, publicKeyPem } from "../src/backup/crypto/rsa.js";
import type { Store } from "../src/store/types.js";
import {
  bytes,
  cli,
  type KeyPair,
  leftovers,
  PY_DECRYPT,
  PY_ENCRYPT,
  PY_PUBLIC_KEY,
  python,
  tempDir,
  writeKeyPair,
} from "./helpers/crypto.js";
import { describeEachDb, freshDb, useFreshStore } from "./helpers/db.js";
import { count, fixture, importFile, rows } from "./helpers/import.js";

const FRESH_INSTALL = fixture("fresh-install.json");

let dir: string;
let keys: KeyPair;
beforeAll(() => {
  dir = tempDir();
  keys = writeKeyPair(dir);
});

describe("Python -> relo", () => {
  it("decrypts a tarball made by Python to the JSON Python encrypted", async () => {
    const tar = join(dir, "py.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, keys.publicPath, tar]);
    const plain = await decryptToTempFile(tar, localDecryptor(keys.privatePem, keys.privatePath));
    try {
      const compact = JSON.stringify(JSON.parse(readFileSync(FRESH_INSTALL, "utf8")));
      expect(readFileSync(plain.path, "utf8")).toBe(compact);
      expect(statSync(plain.path).mode & 0o777).toBe(0o600);
    } finally {
      plain.cleanup();
    }
    expect(() => statSync(plain.path)).toThrow();
  });

  it("decrypts one made for a 4096-bit key, with a PKCS#1 private key", async () => {
    const pkcs1 = join(dir, "rsa4096.pem");
    const pub = join(dir, "rsa4096.pub");
    execFileSync("openssl", ["genrsa", "-traditional", "-out", pkcs1, "4096"], { stdio: "ignore" });
    writeFileSync(pub, python(PY_PUBLIC_KEY, [pkcs1]));
    expect(readFileSync(pkcs1, "utf8")).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const tar = join(dir, "py4096.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, pub, tar]);
    const plain = await decryptToTempFile(tar, localDecryptor(readFileSync(pkcs1), pkcs1));
    expect(JSON.parse(readFileSync(plain.path, "utf8"))).toHaveLength(34);
    plain.cleanup();
  });
});

describe("relo -> Python", () => {
  it("writes tarballs Python decrypts (Sentry's reader, key.pub compared byte for byte)", async () => {
    const tar = join(dir, "relo.tar");
    const json = readFileSync(FRESH_INSTALL);
    await encryptToFile(bytes(json), localEncryptor(keys.publicPem, keys.publicPath), tar);
    expect(python(PY_DECRYPT, [tar, keys.privatePath]).equals(json)).toBe(true);
  });

  it("writes the same tarball when the token is moved behind a larger header (the 8 GiB path)", async () => {
    // With the limit lowered, the token is written in place and then moved, as a >8 GiB one would be.
    const tar = join(dir, "moved.tar");
    const json = readFileSync(FRESH_INSTALL);
    await encryptToFile(bytes(json), localEncryptor(keys.publicPem, keys.publicPath), tar, 100);
    expect(python(PY_DECRYPT, [tar, keys.privatePath]).equals(json)).toBe(true);
    expect(statSync(tar).size % 10240).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes("moved.tar") && f !== "moved.tar")).toEqual([]);
  });

  it("keeps export.json content byte for byte, non-ASCII included", async () => {
    const tar = join(dir, "utf8.tar");
    const json = Buffer.from('[{"model":"sentry.user","pk":1,"fields":{"name":"Zoë 😀","score":100.0}}]');
    await encryptToFile(bytes(json), localEncryptor(keys.publicPem, keys.publicPath), tar);
    expect(python(PY_DECRYPT, [tar, keys.privatePath]).equals(json)).toBe(true);
  });

  it("relo backup encrypt output decrypts in Python to the compact JSON", async () => {
    const tar = join(dir, "cli.tar");
    const r = await cli([
      "backup",
      "encrypt",
      tar,
      "--src",
      FRESH_INSTALL,
      "--encrypt-with",
      keys.publicPath,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const plain = python(PY_DECRYPT, [tar, keys.privatePath]).toString();
    expect(plain).not.toMatch(/\n/);
    expect(JSON.parse(plain)).toEqual(JSON.parse(readFileSync(FRESH_INSTALL, "utf8")));
    expect(plain).toContain('"value":1687902001.2623305');
  });
});

describe("public keys", () => {
  it("derives the same SPKI PEM as Python for PKCS#8 and PKCS#1 keys of several sizes", () => {
    for (const [bits, traditional] of [
      [2048, false],
      [2048, true],
      [3072, false],
      [4096, true],
    ] as const) {
      const path = join(dir, `derive-${bits}-${traditional}.pem`);
      const args = ["genrsa", ...(traditional ? ["-traditional"] : []), "-out", path, String(bits)];
      execFileSync("openssl", args, { stdio: "ignore" });
      const ours = publicKeyPem(loadPrivateKey(readFileSync(path), path));
      const theirs = python(PY_PUBLIC_KEY, [path]);
      expect(ours.toString()).toMatch(
        /^-----BEGIN PUBLIC KEY-----\n(.{64}\n)+.{1,64}\n-----END PUBLIC KEY-----\n$/,
      );
      expect(ours.equals(theirs)).toBe(true);
    }
  });

  it("generates key pairs Python loads, with the public key Python derives", async () => {
    const { privatePem, publicPem } = await generateRsaKeyPair(2048);
    const path = join(dir, "generated.pem");
    writeFileSync(path, privatePem);
    expect(publicPem.equals(python(PY_PUBLIC_KEY, [path]))).toBe(true);
  });
});

describeEachDb("importing a tarball made by Python", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("imports after decryption, as the plain fixture does", async () => {
    const tar = join(dir, `import-${kind}.tar`);
    python(PY_ENCRYPT, [FRESH_INSTALL, keys.publicPath, tar]);
    const plain = await decryptToTempFile(tar, localDecryptor(keys.privatePem, keys.privatePath));
    try {
      await importFile(store, plain.path, { scope: "Global" });
    } finally {
      plain.cleanup();
    }
    expect(await count(store, "sentry_option")).toBe(4);
    expect(await count(store, "sentry_organization")).toBe(1);
    const users = await rows(store, "auth_user");
    expect(users.map((u) => u.username)).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
  });

  it("relo import --decrypt-with imports it and leaves no decrypted copy behind", async () => {
    const db = await freshDb(kind);
    const tmp = tempDir("relo-crypto-tmpdir-");
    try {
      const tar = join(dir, `cli-import-${kind}.tar`);
      python(PY_ENCRYPT, [FRESH_INSTALL, keys.publicPath, tar]);
      const r = await cli(
        ["import", "organizations", tar, "--decrypt-with", keys.privatePath, "--db", db.url, "--no-prompt"],
        { env: { TMPDIR: tmp } },
      );
      expect(r.stderr).toMatch(/Import [0-9a-f]{32} done/);
      expect(r.code).toBe(0);
      expect(leftovers(tmp)).toEqual([]);
      const imported = await db.open();
      try {
        expect(await count(imported, "sentry_organizationmember")).toBe(3);
      } finally {
        await imported.close();
      }
    } finally {
      await db.dispose();
    }
  });
});
