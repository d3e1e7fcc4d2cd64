/**
 * The pieces of an encrypted export, byte by byte: the Fernet token (spec 0x80), the tar
 * container Python's `tarfile` writes, the tar reader's checks, CRC32C and the compaction
 * `backup encrypt` applies. Interop with Python as a whole is in crypto-interop.test.ts.
 */
import { createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { stripWhitespace } from "../src/backup/crypto/compact.js";
import { crc32c } from "../src/backup/crypto/crc32c.js";
import { DecryptionError } from "../src/backup/crypto/errors.js";
import { FernetDecrypter, FernetEncrypter, generateFernetKey } from "../src/backup/crypto/fernet.js";
import { encryptToFile, localEncryptor } from "../src/backup/crypto/index.js";
import { exportToken, memberHeader, scanTarball } from "../src/backup/crypto/tarball.js";
import { bytes, python, tempDir, writeKeyPair } from "./helpers/crypto.js";

/** Pushes `data` through `transform` in chunks of the given sizes (cycled); returns the output. */
async function through(transform: NodeJS.ReadWriteStream, data: Buffer, sizes = [65536]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    chunks.push(data.subarray(at, at + n));
    at += n;
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    transform,
    new Writable({
      write(chunk, _e, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

const encrypt = (key: Buffer, data: Buffer, now?: Date, sizes?: number[]) =>
  through(new FernetEncrypter(key, now), data, sizes);
const decrypt = (key: Buffer, token: Buffer, sizes?: number[]) =>
  through(new FernetDecrypter(key), token, sizes);

describe("Fernet", () => {
  const key = generateFernetKey();

  it("makes 44-character padded base64url keys of 32 random bytes", () => {
    expect(key.length).toBe(44);
    expect(key.toString()).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(key.toString(), "base64url").length).toBe(32);
    expect(generateFernetKey().equals(key)).toBe(false);
  });

  it("writes tokens with the 0x80 layout, the HMAC over everything before it, and = padding", async () => {
    const plain = Buffer.from('[{"model":"sentry.user","pk":1}]');
    const now = new Date("2024-05-06T07:08:09Z");
    const token = await encrypt(key, plain, now);
    expect(token.toString()).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
    expect(token.length % 4).toBe(0);
    const raw = Buffer.from(token.toString(), "base64url");
    const ctLength = raw.length - 57;
    expect(ctLength).toBe(48); // 32 bytes of JSON + a full block of PKCS#7 padding
    expect(raw[0]).toBe(0x80);
    expect(raw.readBigUInt64BE(1)).toBe(BigInt(now.getTime() / 1000));
    const raw32 = Buffer.from(key.toString(), "base64url");
    const mac = createHmac("sha256", raw32.subarray(0, 16)).update(raw.subarray(0, -32)).digest();
    expect(raw.subarray(-32).equals(mac)).toBe(true);
    const decipher = createDecipheriv("aes-128-cbc", raw32.subarray(16), raw.subarray(9, 25));
    const clear = Buffer.concat([decipher.update(raw.subarray(25, -32)), decipher.final()]);
    expect(clear.equals(plain)).toBe(true);
  });

  it("round-trips every size around the block and base64 boundaries, in any chunking", async () => {
    for (const size of [0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 1000, 70_000]) {
      const plain = randomBytes(size);
      for (const sizes of [[1], [3, 7], [4096], [1 << 20]]) {
        const token = await encrypt(key, plain, undefined, sizes);
        expect((await decrypt(key, token, sizes)).equals(plain)).toBe(true);
      }
    }
  });

  it("accepts the standard base64 alphabet too, as Python's decoder does, however the token is split", async () => {
    const plain = randomBytes(3000);
    const standard = Buffer.from(
      (await encrypt(key, plain)).toString().replace(/-/g, "+").replace(/_/g, "/"),
    );
    expect(standard.toString()).toMatch(/[+/]/);
    for (const sizes of [[1], [5], [65536]])
      expect((await decrypt(key, standard, sizes)).equals(plain)).toBe(true);
  });

  it("accepts tokens without padding and with any timestamp (no TTL, as Sentry)", async () => {
    const plain = Buffer.from("hello");
    const old = await encrypt(key, plain, new Date(0));
    expect((await decrypt(key, Buffer.from(old.toString().replace(/=+$/, "")))).toString()).toBe("hello");
    const future = await encrypt(key, plain, new Date("2200-01-01T00:00:00Z"));
    expect((await decrypt(key, future)).toString()).toBe("hello");
  });

  it("streams: plaintext comes out before the token has been read to the end", async () => {
    const plain = randomBytes(4 << 20);
    const token = await encrypt(key, plain);
    const decrypter = new FernetDecrypter(key);
    let out = 0;
    decrypter.on("data", (c: Buffer) => (out += c.length));
    const half = token.length / 2;
    for (let at = 0; at < half; at += 65536) decrypter.write(token.subarray(at, Math.min(at + 65536, half)));
    await new Promise((r) => setImmediate(r));
    expect(out).toBeGreaterThan(1 << 20);
    decrypter.end(token.subarray(half));
    await new Promise((r) => decrypter.on("end", r));
    expect(out).toBe(plain.length);
  });

  it("rejects a token with any byte changed, at the HMAC check", async () => {
    const token = await encrypt(key, randomBytes(1000));
    const raw = Buffer.from(token.toString(), "base64url");
    for (const at of [9, 30, raw.length - 40, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[at] ^= 0x01;
      const p = decrypt(key, Buffer.from(bad.toString("base64url")));
      await expect(p).rejects.toThrow(DecryptionError);
      await expect(p).rejects.toThrow(/integrity check \(HMAC mismatch\)/);
    }
  });

  it("rejects a token for another key", async () => {
    const token = await encrypt(key, Buffer.from("x"));
    await expect(decrypt(generateFernetKey(), token)).rejects.toThrow(/HMAC mismatch/);
  });

  it("rejects malformed tokens with a reason", async () => {
    const token = await encrypt(key, Buffer.from("some data"));
    const text = token.toString();
    const raw = Buffer.from(text, "base64url");
    const v81 = Buffer.from(raw);
    v81[0] = 0x81;
    const cases: [string, RegExp][] = [
      [`${text.slice(0, 20)}!${text.slice(21)}`, /invalid base64url at character 20/],
      [`${text.slice(0, 20)}=${text.slice(21)}`, /invalid base64url at character 20/],
      [text.slice(0, 60), /truncated/],
      ["", /truncated/],
      [v81.toString("base64url"), /version byte 0x81, expected 0x80/],
      [raw.subarray(0, raw.length - 1).toString("base64url"), /truncated|partial block|HMAC/],
    ];
    for (const [bad, reason] of cases) {
      await expect(decrypt(key, Buffer.from(bad))).rejects.toThrow(reason);
    }
  });

  it("rejects a data key that is not a Fernet key", () => {
    expect(() => new FernetDecrypter(Buffer.from("short"))).toThrow(/does not hold a Fernet key/);
    expect(() => new FernetDecrypter(randomBytes(44))).toThrow(DecryptionError);
  });
});

describe("tarball layout", () => {
  let dir: string;
  let tarPath: string;
  let members: Record<string, Buffer>;
  beforeAll(async () => {
    dir = tempDir();
    const keys = writeKeyPair(dir);
    tarPath = join(dir, "out.tar");
    await encryptToFile(bytes("[]"), localEncryptor(keys.publicPem, "key.pub"), tarPath);
    const list = python(
      `import tarfile, sys, json
t = tarfile.open(sys.argv[1])
print(json.dumps([[m.name, m.type.decode(), t.extractfile(m).read().hex()] for m in t.getmembers()]))`,
      [tarPath],
    );
    members = Object.fromEntries(
      (JSON.parse(list.toString()) as [string, string, string][]).map(([n, t, hex]) => {
        expect(t).toBe("0");
        return [n, Buffer.from(hex, "hex")];
      }),
    );
  });

  it("holds export.json, data.key and key.pub in that order", () => {
    expect(Object.keys(members)).toEqual(["export.json", "data.key", "key.pub"]);
    expect(members["export.json"].toString()).toMatch(/^gAAAAA/);
    expect(members["data.key"].length).toBe(256);
  });

  it("is byte-identical to what Python's tarfile writes for the same members", () => {
    const pyTar = python(
      `import io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tar:
    for name, path in zip(("export.json", "data.key", "key.pub"), sys.argv[1:]):
        body = open(path, "rb").read()
        info = tarfile.TarInfo(name)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
sys.stdout.buffer.write(buf.getvalue())`,
      ["export.json", "data.key", "key.pub"].map((n) => {
        const p = join(dir, `member-${n}`);
        writeFileSync(p, members[n]);
        return p;
      }),
    );
    const ours = readFileSync(tarPath);
    expect(ours.length).toBe(10240);
    expect(ours.equals(pyTar)).toBe(true);
  });

  it("writes a PAX size record for members of 8 GiB and more, as Python does", () => {
    for (const size of [8 ** 11 - 1, 8 ** 11, 9_000_000_000]) {
      const py = python(
        `import sys, tarfile
info = tarfile.TarInfo("export.json")
info.size = int(sys.argv[1])
sys.stdout.buffer.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))`,
        [String(size)],
      );
      expect(memberHeader("export.json", size).equals(py)).toBe(true);
    }
  });
});

describe("tarball reader", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });

  /** Writes a tar made by Python's tarfile from [name, content or null for a directory] pairs. */
  function pyTar(name: string, entries: [string, string | null][], mode = "w"): string {
    const path = join(dir, name);
    python(
      `import io, json, sys, tarfile
with tarfile.open(sys.argv[1], mode=sys.argv[3]) as tar:
    for name, body in json.loads(sys.argv[2]):
        info = tarfile.TarInfo(name)
        if body is None:
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        else:
            data = body.encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))`,
      [path, JSON.stringify(entries), mode],
    );
    return path;
  }

  const three: [string, string][] = [
    ["export.json", "gAAAAAtoken"],
    ["data.key", "wrapped"],
    ["key.pub", "pem"],
  ];

  async function tokenOf(path: string): Promise<string> {
    const out: Buffer[] = [];
    for await (const c of exportToken(path)) out.push(c);
    return Buffer.concat(out).toString();
  }

  it("reads the three members, skipping directories, from plain and gzip tarballs", async () => {
    for (const mode of ["w", "w:gz"]) {
      const path = pyTar(`ok-${mode.replace(":", "")}.tar`, [["somedir", null], ...three], mode);
      const parts = await scanTarball(path);
      expect(parts.dataKey.toString()).toBe("wrapped");
      expect(parts.publicKeyPem.toString()).toBe("pem");
      expect(parts.exportSize).toBe(11);
      expect(await tokenOf(path)).toBe("gAAAAAtoken");
    }
  });

  it("accepts members in any order", async () => {
    const path = pyTar("reordered.tar", [three[2], three[1], three[0]]);
    expect((await scanTarball(path)).dataKey.toString()).toBe("wrapped");
    expect(await tokenOf(path)).toBe("gAAAAAtoken");
  });

  it("names an unknown member as Sentry does", async () => {
    const path = pyTar("extra.tar", [...three, ["notes.txt", "hi"]]);
    await expect(scanTarball(path)).rejects.toThrow("Invalid tarball: Unknown tarball entity notes.txt");
  });

  it("names a missing member, after Sentry's message", async () => {
    const path = pyTar("missing.tar", [three[0], three[2]]);
    await expect(scanTarball(path)).rejects.toThrow(
      "Invalid tarball: A required file was missing from the temporary test tarball (missing: data.key)",
    );
  });

  it("rejects a member present twice", async () => {
    const path = pyTar("twice.tar", [...three, three[1]]);
    await expect(scanTarball(path)).rejects.toThrow("the tarball holds data.key twice");
  });

  it("rejects an oversized data.key without reading it into memory", async () => {
    const path = pyTar("bigkey.tar", [three[0], ["data.key", "k".repeat(5000)], three[2]]);
    await expect(scanTarball(path)).rejects.toThrow("data.key is 5000 bytes, more than the 2048 it can be");
  });

  it("says what is wrong with files that are not tarballs", async () => {
    const json = join(dir, "plain.json");
    writeFileSync(json, JSON.stringify([{ model: "sentry.user", pk: 1, fields: {} }]).repeat(30));
    await expect(scanTarball(json)).rejects.toThrow("this is not a tar archive");
    const full = readFileSync(pyTar("full.tar", three));
    const cut = join(dir, "cut.tar");
    writeFileSync(cut, full.subarray(0, 700));
    await expect(scanTarball(cut)).rejects.toThrow("the tarball is truncated");
    const badGzip = join(dir, "bad.tar.gz");
    writeFileSync(badGzip, gzipSync(full).subarray(0, 60));
    await expect(scanTarball(badGzip)).rejects.toThrow(DecryptionError);
    const xz = join(dir, "x.tar.xz");
    writeFileSync(xz, Buffer.from("fd377a585a000004", "hex"));
    await expect(scanTarball(xz)).rejects.toThrow("bzip2- or xz-compressed");
    const empty = join(dir, "empty.tar");
    writeFileSync(empty, "");
    await expect(scanTarball(empty)).rejects.toThrow(/missing: export.json, data.key, key.pub/);
  });
});

describe("CRC32C", () => {
  it("matches the Castagnoli check values", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
  });
});

describe("compaction for backup encrypt", () => {
  it("drops whitespace outside strings only, keeping number lexemes and escapes", () => {
    const text =
      '[\n  {\n    "a b": [ 1 , 100.0, 1e+16 ],\n    "c": "x \\" \\\\ y\\u00e9 ",\t"d": {}\r\n  }\n]';
    expect(stripWhitespace(text)).toBe('[{"a b":[1,100.0,1e+16],"c":"x \\" \\\\ y\\u00e9 ","d":{}}]');
  });

  it("handles strings of millions of escapes without deep recursion", () => {
    const text = `[ "${'\\"'.repeat(2_000_000)}" ]`;
    expect(stripWhitespace(text).length).toBe(text.length - 2);
  });
});
