/**
 * Google Cloud KMS through @google-cloud/kms, against the loopback fake in helpers/fake-kms.ts
 * (RELO_KMS_ENDPOINT points the client at it; nothing leaves the machine): encrypting to the KMS
 * public key, remote decryption with CRC32C both ways, Sentry's config and corruption errors,
 * and the CLI flags.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { crc32c } from "../src/backup/crypto/crc32c.js";
import { DecryptionError, EncryptionError } from "../src/backup/crypto/errors.js";
import {
  decryptToTempFile,
  encryptToFile,
  kmsDecryptor,
  kmsEncryptor,
  localDecryptor,
} from "../src/backup/crypto/index.js";
import { KMS_CONFIG_FIELDS_MESSAGE, KMS_CORRUPTED_MESSAGE } from "../src/backup/crypto/kms.js";
import { scanTarball } from "../src/backup/crypto/tarball.js";
import {
  bytes,
  cli,
  leftovers,
  PY_DECRYPT,
  PY_ENCRYPT,
  python,
  tempDir,
  writeKeyPair,
} from "./helpers/crypto.js";
import { describeEachDb, freshDb } from "./helpers/db.js";
import { type FakeKms, startFakeKms } from "./helpers/fake-kms.js";
import { count, fixture } from "./helpers/import.js";

const FRESH_INSTALL = fixture("fresh-install.json");
const KEY_NAME =
  "projects/relo-test/locations/global/keyRings/relocation/cryptoKeys/relocation/cryptoKeyVersions/1";

let kms: FakeKms;
let dir: string;
let tmp: string;
let config: string;
/** A tarball encrypted to the KMS key by relo. */
let tarball: string;
/** The fake's private key as a PEM file, for Python. */
let privatePath: string;

beforeAll(async () => {
  kms = await startFakeKms();
  process.env.RELO_KMS_ENDPOINT = kms.url;
  dir = tempDir();
  tmp = tempDir("relo-crypto-tmpdir-");
  process.env.TMPDIR = tmp;
  config = kms.writeConfig(dir);
  privatePath = join(dir, "kms-private.pem");
  writeFileSync(privatePath, kms.privateKey.export({ type: "pkcs8", format: "pem" }));
  tarball = join(dir, "kms.tar");
  await encryptToFile(
    bytes(readFileSync(FRESH_INSTALL)),
    kmsEncryptor(readFileSync(config), config),
    tarball,
  );
});

afterAll(async () => {
  await kms?.close();
});

beforeEach(() => {
  kms.requests.length = 0;
});

function writeConfig(name: string, content: string): Buffer {
  writeFileSync(join(dir, name), content);
  return Buffer.from(content);
}

describe("encrypting with KMS", () => {
  it("fetches the public key of the configured key version and writes it as key.pub", async () => {
    const out = join(dir, "again.tar");
    await encryptToFile(bytes("[]"), kmsEncryptor(readFileSync(config), config), out);
    expect(kms.requests.map((r) => [r.method, r.path])).toEqual([["GET", `/v1/${KEY_NAME}/publicKey`]]);
    expect((await scanTarball(out)).publicKeyPem.toString()).toBe(kms.publicPem);
  });

  it("writes tarballs Python decrypts with the KMS key's private half", () => {
    const plain = python(PY_DECRYPT, [tarball, privatePath]);
    expect(plain.equals(readFileSync(FRESH_INSTALL))).toBe(true);
  });

  it("reports a key version KMS does not have", async () => {
    const bad = writeConfig("v7.json", JSON.stringify({ ...kms.keyVersion, version: "7" }));
    const p = encryptToFile(bytes("[]"), kmsEncryptor(bad, "v7.json"), join(dir, "never.tar"));
    await expect(p).rejects.toThrow(EncryptionError);
    await expect(p).rejects.toThrow(
      /Google Cloud KMS could not give the public key of .*cryptoKeyVersions\/7: .*not found/,
    );
  });
});

describe("decrypting with KMS", () => {
  it("sends data.key with its CRC32C to the key version and decrypts", async () => {
    const parts = await scanTarball(tarball);
    const plain = await decryptToTempFile(tarball, kmsDecryptor(readFileSync(config), config));
    try {
      expect(readFileSync(plain.path).equals(readFileSync(FRESH_INSTALL))).toBe(true);
    } finally {
      plain.cleanup();
    }
    expect(kms.requests).toHaveLength(1);
    const [req] = kms.requests;
    expect(req.method).toBe("POST");
    expect(req.path).toBe(`/v1/${KEY_NAME}:asymmetricDecrypt`);
    expect(Buffer.from(String(req.body?.ciphertext), "base64").equals(parts.dataKey)).toBe(true);
    expect(Number(req.body?.ciphertextCrc32c)).toBe(crc32c(parts.dataKey));
  });

  it("decrypts a tarball Python encrypted to the KMS public key", async () => {
    const pub = join(dir, "kms.pub");
    writeFileSync(pub, kms.publicPem);
    const tar = join(dir, "py-kms.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, pub, tar]);
    const plain = await decryptToTempFile(tar, kmsDecryptor(readFileSync(config), config));
    expect(JSON.parse(readFileSync(plain.path, "utf8"))).toEqual(
      JSON.parse(readFileSync(FRESH_INSTALL, "utf8")),
    );
    plain.cleanup();
  });

  it("does not compare key.pub (Sentry does not for KMS), while a local key must match it", async () => {
    const pub = join(dir, "kms.pub");
    writeFileSync(pub, kms.publicPem);
    const made = join(dir, "py-kms-for-swap.tar");
    python(PY_ENCRYPT, [FRESH_INSTALL, pub, made]);
    const other = writeKeyPair(dir, "swap");
    const swapped = join(dir, "swapped-keypub.tar");
    python(
      `import io, sys, tarfile
src, pub, out = sys.argv[1:4]
with tarfile.open(src) as tar:
    members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
with tarfile.open(out, "w") as tar:
    for name, body in members:
        body = open(pub, "rb").read() if name == "key.pub" else body
        info = tarfile.TarInfo(name)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))`,
      [made, other.publicPath, swapped],
    );
    const plain = await decryptToTempFile(swapped, kmsDecryptor(readFileSync(config), config));
    plain.cleanup();
    const local = localDecryptor(readFileSync(privatePath), privatePath);
    await expect(decryptToTempFile(swapped, local)).rejects.toThrow(/The public key does not match/);
    (await decryptToTempFile(made, local)).cleanup();
  });

  it("rejects a response whose plaintext CRC32C is wrong, with Sentry's message", async () => {
    kms.corruptPlaintextCrc = true;
    const p = decryptToTempFile(tarball, kmsDecryptor(readFileSync(config), config));
    await expect(p).rejects.toThrow(DecryptionError);
    await expect(p).rejects.toThrow(`Invalid tarball: ${KMS_CORRUPTED_MESSAGE}`);
    expect(KMS_CORRUPTED_MESSAGE).toBe("The response received from the server was corrupted in-transit.");
    expect(leftovers(tmp)).toEqual([]);
  });

  it("accepts a numeric version, as Sentry (which formats it into the name) does", async () => {
    const numeric = writeConfig("numeric.json", JSON.stringify({ ...kms.keyVersion, version: 1 }));
    const plain = await decryptToTempFile(tarball, kmsDecryptor(numeric, "numeric.json"));
    plain.cleanup();
    expect(kms.requests[0].path).toBe(`/v1/${KEY_NAME}:asymmetricDecrypt`);
  });

  it("reports KMS's refusal for a key version it does not have", async () => {
    const bad = writeConfig("v2.json", JSON.stringify({ ...kms.keyVersion, version: "2" }));
    await expect(decryptToTempFile(tarball, kmsDecryptor(bad, "v2.json"))).rejects.toThrow(
      /^Invalid tarball: Google Cloud KMS could not decrypt data.key with .*cryptoKeyVersions\/2: CryptoKeyVersion .* not found\.$/,
    );
    expect(leftovers(tmp)).toEqual([]);
  });
});

describe("KMS config files", () => {
  const v = { project_id: "p", location: "global", key_ring: "r", key: "k", version: "1" };
  const WRONG_FIELDS: [string, unknown][] = [
    ["a missing field", { project_id: "p", location: "global", key_ring: "r", key: "k" }],
    ["an extra field", { ...v, region: "eu" }],
    [
      "the spelling from Sentry's help text",
      { "project-id": "p", location: "global", keyring: "r", key: "k", version: "1" },
    ],
    ["a list", [v]],
    ["a null value", { ...v, key: null }],
  ];

  it("has Sentry's message for wrong fields", () => {
    expect(KMS_CONFIG_FIELDS_MESSAGE).toBe(
      "Your supplied KMS configuration did not have the correct fields - please ensure that it is a single, top-level object with the fields `project_id` `location`, `key_ring`, `key`, and `version`, with all values as strings.",
    );
  });

  for (const [what, value] of WRONG_FIELDS) {
    it(`rejects ${what}, when encrypting and when decrypting, before calling KMS`, () => {
      const bytesOf = Buffer.from(JSON.stringify(value));
      expect(() => kmsEncryptor(bytesOf, "c.json")).toThrow(new EncryptionError(KMS_CONFIG_FIELDS_MESSAGE));
      expect(() => kmsDecryptor(bytesOf, "c.json")).toThrow(new DecryptionError(KMS_CONFIG_FIELDS_MESSAGE));
      expect(kms.requests).toEqual([]);
    });
  }

  it("says when the file is not JSON", () => {
    expect(() => kmsDecryptor(Buffer.from("project_id: p"), "c.yaml")).toThrow(
      /^Invalid tarball: the KMS configuration c\.yaml is not valid JSON: /,
    );
  });
});

describe("relo CLI with KMS", () => {
  const env = () => ({ RELO_KMS_ENDPOINT: kms.url, TMPDIR: tmp });

  it("backup encrypt --encrypt-with-gcp-kms, then backup decrypt --decrypt-with-gcp-kms", async () => {
    const tar = join(dir, "cli-kms.tar");
    const out = join(dir, "cli-kms.json");
    const enc = await cli(
      ["backup", "encrypt", tar, "--src", FRESH_INSTALL, "--encrypt-with-gcp-kms", config],
      {
        env: env(),
      },
    );
    expect(enc.stderr).toBe("");
    expect(enc.code).toBe(0);
    const dec = await cli(["backup", "decrypt", out, "--src", tar, "--decrypt-with-gcp-kms", config], {
      env: env(),
    });
    expect(dec.stderr).toBe("");
    expect(dec.code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(JSON.parse(readFileSync(FRESH_INSTALL, "utf8")));
  });

  it("backup decrypt fails on a corrupted response with Sentry's message, writing nothing", async () => {
    kms.corruptPlaintextCrc = true;
    const r = await cli(["backup", "decrypt", "-", "--src", tarball, "--decrypt-with-gcp-kms", config], {
      env: env(),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`relo: error: Invalid tarball: ${KMS_CORRUPTED_MESSAGE}\nNothing was changed.\n`);
    expect(r.stdout.length).toBe(0);
    expect(leftovers(tmp)).toEqual([]);
  });

  it("backup encrypt with a config of the wrong fields gets Sentry's message", async () => {
    const bad = join(dir, "bad-fields.json");
    writeFileSync(bad, JSON.stringify({ project: "p" }));
    const out = join(dir, "never.tar");
    const r = await cli(["backup", "encrypt", out, "--src", FRESH_INSTALL, "--encrypt-with-gcp-kms", bad], {
      env: env(),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `relo: error: Cannot encrypt: ${KMS_CONFIG_FIELDS_MESSAGE}\nNothing was changed.\n`,
    );
  });

  it("rejects both flags together, with Sentry's messages", async () => {
    const pem = join(dir, "any.pem");
    writeFileSync(pem, "x");
    const enc = await cli(
      [
        "backup",
        "encrypt",
        "-",
        "--src",
        FRESH_INSTALL,
        "--encrypt-with",
        pem,
        "--encrypt-with-gcp-kms",
        config,
      ],
      { env: env() },
    );
    expect(enc.code).toBe(1);
    expect(enc.stderr).toContain(
      "`--encrypt-with` and `--encrypt-with-gcp-kms` are mutually exclusive options - you may use one or the other, but not both.",
    );
    const dec = await cli(
      ["import", "users", tarball, "--decrypt-with", pem, "--decrypt-with-gcp-kms", config, "--no-prompt"],
      { env: env() },
    );
    expect(dec.code).toBe(1);
    expect(dec.stderr).toContain(
      "`--decrypt-with` and `--decrypt-with-gcp-kms` are mutually exclusive options - you may use one or the other, but not both.",
    );
  });
});

describeEachDb("relo import --decrypt-with-gcp-kms", (kind) => {
  it("imports a KMS-encrypted export in Global scope and leaves no plaintext behind", async () => {
    const db = await freshDb(kind);
    try {
      const r = await cli(
        ["import", "global", tarball, "--decrypt-with-gcp-kms", config, "--db", db.url, "--no-prompt"],
        { env: { RELO_KMS_ENDPOINT: kms.url, TMPDIR: tmp } },
      );
      expect(r.stderr).toMatch(/Import [0-9a-f]{32} done/);
      expect(r.code).toBe(0);
      expect(leftovers(tmp)).toEqual([]);
      const store = await db.open();
      try {
        expect(await count(store, "sentry_option")).toBe(4);
        expect(await count(store, "auth_user")).toBe(3);
      } finally {
        await store.close();
      }
    } finally {
      await db.dispose();
    }
  });
});
