/**
 * Shared pieces of the encryption tests: RSA keys, Python's `cryptography` (Debian's
 * python3-cryptography, so always /usr/bin/python3) doing what Sentry does, and the CLI as a
 * subprocess.
 */
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { afterAll } from "vitest";

export const PYTHON = "/usr/bin/python3";
const ROOT = resolve(import.meta.dirname, "../..");

const made: string[] = [];

/** A new temporary directory, removed after the test file that made it has run. */
export function tempDir(prefix = "relo-crypto-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

// Registered while the importing test file is being collected, so it runs after that file.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface KeyPair {
  privatePath: string;
  publicPath: string;
  privatePem: Buffer;
  publicPem: Buffer;
}

/** A new RSA key pair written to `dir` (PKCS#8 private key, SPKI public key). */
export function writeKeyPair(dir: string, name = "key", bits = 2048): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const privatePem = Buffer.from(privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  const publicPem = Buffer.from(publicKey.export({ type: "spki", format: "pem" }) as string);
  const privatePath = join(dir, `${name}.pem`);
  const publicPath = join(dir, `${name}.pub`);
  writeFileSync(privatePath, privatePem, { mode: 0o600 });
  writeFileSync(publicPath, publicPem);
  return { privatePath, publicPath, privatePem, publicPem };
}

export function bytes(data: string | Buffer): Readable {
  return Readable.from([Buffer.from(data)]);
}

/** Runs an inline Python script; throws with its stderr when it fails. */
export function python(script: string, args: string[] = [], input?: Buffer): Buffer {
  const r = spawnSync(PYTHON, ["-c", script, ...args], { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

const PY_IMPORTS = `
import io, json, sys, tarfile
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
`;

/**
 * What Sentry's `create_encrypted_export_tarball` does, in Python's `cryptography` and `tarfile`:
 * compact JSON, a fresh Fernet key, OAEP-SHA256 wrapping, and the three members in order.
 * Args: SRC_JSON PUBLIC_PEM OUT_TAR.
 */
export const PY_ENCRYPT = `${PY_IMPORTS}
src, pub, out = sys.argv[1:4]
payload = json.dumps(json.load(open(src, "rb")), separators=(",", ":"), ensure_ascii=False).encode()
pem = open(pub, "rb").read()
dek = Fernet.generate_key()
token = Fernet(dek).encrypt(payload)
wrapped = serialization.load_pem_public_key(pem).encrypt(dek, OAEP)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tar:
    for name, body in (("export.json", token), ("data.key", wrapped), ("key.pub", pem)):
        info = tarfile.TarInfo(name)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
open(out, "wb").write(buf.getvalue())
`;

/**
 * What Sentry's `decrypt_encrypted_tarball` with a local key does: read the regular members,
 * require key.pub to equal the SPKI PEM derived from the private key, unwrap, Fernet-decrypt.
 * Args: TAR PRIVATE_PEM; prints the plaintext.
 */
export const PY_DECRYPT = `${PY_IMPORTS}
path, key_path = sys.argv[1:3]
with tarfile.open(path, mode="r") as tar:
    members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
assert sorted(members) == ["data.key", "export.json", "key.pub"], sorted(members)
key = serialization.load_pem_private_key(open(key_path, "rb").read(), password=None)
derived = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
if members["key.pub"] != derived:
    sys.exit("key.pub does not match the private key")
dek = key.decrypt(members["data.key"], OAEP)
sys.stdout.buffer.write(Fernet(dek).decrypt(members["export.json"].decode("utf-8")))
`;

/** Python's SPKI PEM of the public half of a private key. Args: PRIVATE_PEM. */
export const PY_PUBLIC_KEY = `${PY_IMPORTS}
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
sys.stdout.buffer.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
`;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

const BIN = ["--import", "tsx", join(ROOT, "src/cli/bin.ts")];

/** Runs `relo ARGS`; `input` goes to its standard input (closed right away when absent). */
export function cli(args: string[], opts: { env?: Record<string, string>; input?: Buffer } = {}) {
  return new Promise<CliResult>((done, fail) => {
    const child = spawn(process.execPath, [...BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, METADATA_SERVER_DETECTION: "none", ...opts.env },
    });
    child.stdin.end(opts.input);
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.on("error", fail);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout: Buffer.concat(out), stderr });
    });
  });
}

/** The private directories relo's encryption left in `dir` (a TMPDIR it was given): must be none. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^relo-(en|de)crypt-/.test(name));
}
