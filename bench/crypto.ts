/**
 * Encryption throughput: relo encrypting a plain export into a Sentry-format tarball and
 * decrypting it back (to a verified temporary file, as `relo import --decrypt-with` does), next
 * to `openssl enc -aes-128-cbc` encrypting and decrypting the same file. openssl does only the
 * AES-CBC pass; relo also computes the HMAC, base64-encodes the token, stages it, writes the tar,
 * and reads the tarball twice to decrypt, so a ratio below 1 is expected.
 *
 * relo runs in child processes, compiled to JavaScript (as the CLI runs, under the CLI's 160 MB
 * heap cap) so their peak RSS shows the memory bound. MB means 10^6 bytes of plaintext. Best of
 * two runs each.
 *
 * Run alone: `npx tsx bench/crypto.ts [sizeMb]` (default 200). `npm run bench` runs it after the
 * import benchmark.
 */
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
// Compiled on its own (not all of dist/), under node_modules so its packages resolve.
const BUILD = join(ROOT, "node_modules/.cache/relo-bench-crypto");
const CRYPTO = pathToFileURL(join(BUILD, "backup/crypto/index.js")).href;

function build(): void {
  const options = ["--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"];
  const more = [
    "--skipLibCheck",
    "--esModuleInterop",
    "--types",
    "node",
    "--rootDir",
    "src",
    "--outDir",
    BUILD,
  ];
  execFileSync("npx", ["tsc", ...options, ...more, "src/backup/crypto/index.ts"], {
    cwd: ROOT,
    stdio: "inherit",
  });
}

interface Timed {
  seconds: number;
  peakRssMb?: number;
}

const CHILD = `
import { createReadStream, readFileSync, renameSync } from "node:fs";
import { decryptToTempFile, encryptToFile, localDecryptor, localEncryptor } from ${JSON.stringify(CRYPTO)};
const [mode, from, to, key] = process.argv.slice(1);
const started = performance.now();
if (mode === "encrypt") {
  const json = createReadStream(from, { highWaterMark: 1 << 20 });
  await encryptToFile(json, localEncryptor(readFileSync(key), key), to);
} else {
  const plain = await decryptToTempFile(from, localDecryptor(readFileSync(key), key));
  renameSync(plain.path, to);
  plain.cleanup();
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

function relo(mode: "encrypt" | "decrypt", from: string, to: string, key: string): Timed {
  const out = execFileSync(
    process.execPath,
    ["--max-old-space-size=160", "--input-type=module", "-e", CHILD, mode, from, to, key],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(out.trim());
}

function openssl(decrypt: boolean, from: string, to: string, key: string, iv: string): Timed {
  const started = performance.now();
  const args = [
    "enc",
    ...(decrypt ? ["-d"] : []),
    "-aes-128-cbc",
    "-K",
    key,
    "-iv",
    iv,
    "-in",
    from,
    "-out",
    to,
  ];
  execFileSync("openssl", args, { stdio: "inherit" });
  return { seconds: (performance.now() - started) / 1000 };
}

function best(run: () => Timed): Timed {
  const a = run();
  const b = run();
  return a.seconds <= b.seconds ? a : b;
}

/** About `sizeMb` MB of export-shaped JSON, written in 1 MB batches. */
function writeExport(path: string, sizeMb: number): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, "[");
    let written = 1;
    for (let pk = 1; written < sizeMb * 1e6; ) {
      const batch: string[] = [];
      for (let n = 0; n < 2000; n++, pk++) {
        const fields = {
          username: `user${pk}`,
          email: `user${pk}@example.com`,
          token: randomBytes(16).toString("hex"),
        };
        batch.push(`${pk === 1 ? "" : ","}${JSON.stringify({ model: "sentry.user", pk, fields })}`);
      }
      written += writeSync(fd, batch.join(""));
    }
    writeSync(fd, "]");
  } finally {
    closeSync(fd);
  }
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Runs the benchmark on a generated export of about `sizeMb` MB; returns a markdown table. */
export async function benchCrypto(opts: { sizeMb: number }): Promise<string[]> {
  build();
  const dir = mkdtempSync(join(tmpdir(), "relo-bench-crypto-"));
  try {
    const plain = join(dir, "export.json");
    writeExport(plain, opts.sizeMb);
    const bytes = statSync(plain).size;
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 4096 });
    const priv = join(dir, "key.pem");
    const pub = join(dir, "key.pub");
    writeFileSync(priv, privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }));
    const aesKey = randomBytes(16).toString("hex");
    const iv = randomBytes(16).toString("hex");

    const tar = join(dir, "export.tar");
    const back = join(dir, "decrypted.json");
    const reloEnc = best(() => relo("encrypt", plain, tar, pub));
    const reloDec = best(() => relo("decrypt", tar, back, priv));
    if (sha256(back) !== sha256(plain)) throw new Error("relo's decryption did not give back the export");
    const sslEnc = best(() => openssl(false, plain, join(dir, "export.enc"), aesKey, iv));
    const sslDec = best(() => openssl(true, join(dir, "export.enc"), join(dir, "openssl.json"), aesKey, iv));

    const mbs = (t: Timed) => bytes / 1e6 / t.seconds;
    const row = (op: string, r: Timed, o: Timed) =>
      `| ${op} | ${mbs(r).toFixed(0)} | ${r.peakRssMb!.toFixed(0)} | ${mbs(o).toFixed(0)} | ${(mbs(r) / mbs(o)).toFixed(2)} |`;
    return [
      `Plain export: ${(bytes / 1e6).toFixed(1)} MB; tarball: ${(statSync(tar).size / 1e6).toFixed(1)} MB (RSA-4096)`,
      "",
      "| operation | relo MB/s | relo peak RSS MB | openssl enc -aes-128-cbc MB/s | relo / openssl |",
      "|---|---|---|---|---|",
      row("encrypt", reloEnc, sslEnc),
      row("decrypt (HMAC verified)", reloDec, sslDec),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await benchCrypto({ sizeMb: Number(process.argv[2] ?? 200) })) console.log(line);
}
