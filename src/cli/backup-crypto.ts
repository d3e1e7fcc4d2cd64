/**
 * Encryption on the command line: `relo backup encrypt|decrypt|keygen`, and the
 * `--encrypt-with*` / `--decrypt-with*` flags other commands add (Sentry's names and messages).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { compactExport } from "../backup/crypto/compact.js";
import {
  type Decryptor,
  decryptToFile,
  decryptToTempFile,
  type Encryptor,
  encryptStream,
  encryptToFile,
  generateRsaKeyPair,
  kmsDecryptor,
  kmsEncryptor,
  localDecryptor,
  localEncryptor,
} from "../backup/crypto/index.js";
import { UsageError } from "../backup/errors.js";
import { openSource } from "../backup/reader.js";

/** The side of `backup compare` a set of decrypt flags belongs to; none for other commands. */
export type Side = "left" | "right";

const KMS_CONFIG_HELP =
  "a JSON file holding one object with exactly project_id, location, key_ring, key and version";

function decryptFlags(side?: Side): { local: string; kms: string } {
  const local = side ? `--decrypt-${side}-with` : "--decrypt-with";
  return { local, kms: `${local}-gcp-kms` };
}

function camel(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Adds `--decrypt-with PEM` and `--decrypt-with-gcp-kms CONFIG` (for a side of `backup compare`:
 * `--decrypt-left-with`, ...). Read them back with `decryptorFromOptions`.
 */
export function addDecryptOptions<T extends Command<any, any, any>>(cmd: T, side?: Side): T {
  const { local, kms } = decryptFlags(side);
  const what = side ? `the ${side} input` : "the input";
  return cmd
    .option(`${local} <pem>`, `${what} is an encrypted tarball: decrypt it with this RSA private key (PEM)`)
    .option(
      `${kms} <config>`,
      `${what} is an encrypted tarball: decrypt it with Google Cloud KMS; <config> is ${KMS_CONFIG_HELP}`,
    ) as T;
}

/** Adds `--encrypt-with PEM` and `--encrypt-with-gcp-kms CONFIG`. Read them back with `encryptorFromOptions`. */
export function addEncryptOptions<T extends Command<any, any, any>>(cmd: T): T {
  return cmd
    .option(
      "--encrypt-with <pem>",
      "write an encrypted tarball (export.json, data.key, key.pub) for this RSA public key (PEM)",
    )
    .option(
      "--encrypt-with-gcp-kms <config>",
      `write an encrypted tarball for a Google Cloud KMS key; <config> is ${KMS_CONFIG_HELP}`,
    ) as T;
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path === "-" ? 0 : path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new UsageError(`cannot read ${flag} ${path}: ${reason}`);
  }
}

function exclusive(a: string, b: string): UsageError {
  return new UsageError(
    `\`${a}\` and \`${b}\` are mutually exclusive options - you may use one or the other, but not both.`,
  );
}

/** The decryptor the parsed options ask for, or null when neither flag was given. */
export function decryptorFromOptions(opts: object, side?: Side): Decryptor | null {
  const { local, kms } = decryptFlags(side);
  const given = opts as Record<string, string | undefined>;
  const pem = given[camel(local)];
  const config = given[camel(kms)];
  if (pem !== undefined && config !== undefined) throw exclusive(local, kms);
  if (pem !== undefined) return localDecryptor(readFlagFile(local, pem), pem);
  if (config !== undefined) return kmsDecryptor(readFlagFile(kms, config), config);
  return null;
}

/** The encryptor the parsed options ask for, or null when neither flag was given. */
export function encryptorFromOptions(opts: object): Encryptor | null {
  const { encryptWith: pem, encryptWithGcpKms: config } = opts as {
    encryptWith?: string;
    encryptWithGcpKms?: string;
  };
  if (pem !== undefined && config !== undefined) throw exclusive("--encrypt-with", "--encrypt-with-gcp-kms");
  if (pem !== undefined) return localEncryptor(readFlagFile("--encrypt-with", pem), pem);
  if (config !== undefined) return kmsEncryptor(readFlagFile("--encrypt-with-gcp-kms", config), config);
  return null;
}

/** A readable export file. */
export interface PlainInput {
  path: string;
  /** Removes the decrypted copy, if one was made; a no-op otherwise. */
  cleanup(): void;
}

/**
 * The plain export behind `src`: `src` itself without decrypt flags, else a verified decrypted
 * copy in a private temporary file (`src` may then be `-` for standard input).
 */
export async function plainInput(src: string, opts: object, side?: Side): Promise<PlainInput> {
  const decryptor = decryptorFromOptions(opts, side);
  if (decryptor) return decryptToTempFile(src, decryptor);
  if (looksLikeTarball(src)) {
    const { local, kms } = decryptFlags(side);
    throw new UsageError(`${src} is an encrypted tarball: pass ${local} or ${kms} to decrypt it`);
  }
  return { path: src, cleanup() {} };
}

/** True for a file whose first block is a ustar header (an export is JSON; it never is). */
function looksLikeTarball(path: string): boolean {
  if (path === "-") return false;
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const block = Buffer.alloc(512);
    return readSync(fd, block, 0, 512, 0) === 512 && block.toString("latin1", 257, 262) === "ustar";
  } catch {
    return false; // unreadable: the import reports it
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function encryptCommand() {
  return addEncryptOptions(
    new Command("encrypt")
      .description("Encrypt an export (JSON) into a tarball Sentry and relo can decrypt.")
      .argument("<dest>", "the tarball to write, or - for standard output")
      .requiredOption("--src <path>", "the export to encrypt, or - for standard input"),
  ).action(async (dest, o) => {
    const encryptor = encryptorFromOptions(o);
    if (!encryptor) {
      throw new UsageError("You must specify one of `--encrypt-with` or `--encrypt-with-gcp-kms`.");
    }
    const json = compactExport(openSource(o.src) as AsyncIterable<Uint8Array>);
    if (dest === "-") await encryptStream(json, encryptor, process.stdout, { end: false });
    else await encryptToFile(json, encryptor, dest);
  });
}

export function decryptCommand() {
  return addDecryptOptions(
    new Command("decrypt")
      .description("Decrypt an encrypted export tarball into its JSON.")
      .argument("<dest>", "the JSON file to write, or - for standard output")
      .requiredOption("--src <path>", "the tarball to decrypt, or - for standard input"),
  ).action(async (dest, o) => {
    const decryptor = decryptorFromOptions(o);
    if (!decryptor) {
      throw new UsageError("You must specify one of `--decrypt-with` or `--decrypt-with-gcp-kms`.");
    }
    await decryptToFile(o.src, decryptor, dest);
  });
}

function parseBits(value: string): number {
  const bits = Number(value);
  if (!Number.isInteger(bits) || bits < 2048 || bits > 16384) {
    throw new InvalidArgumentError("must be a whole number of bits from 2048 to 16384.");
  }
  return bits;
}

export function keygenCommand() {
  return new Command("keygen")
    .description("Write a new RSA key pair for --encrypt-with (public) and --decrypt-with (private).")
    .argument("<private>", "where to write the private key (PEM, PKCS#8, readable only by you)")
    .argument("<public>", "where to write the public key (PEM, SubjectPublicKeyInfo)")
    .option("--bits <n>", "key size in bits", parseBits, 4096)
    .action(async (privatePath, publicPath, o) => {
      for (const path of [privatePath, publicPath]) {
        if (existsSync(path)) throw new UsageError(`${path} already exists; keygen never overwrites a key`);
      }
      if (privatePath === publicPath) throw new UsageError("the private and public key paths must differ");
      const { privatePem, publicPem } = await generateRsaKeyPair(o.bits);
      writeFileSync(privatePath, privatePem, { mode: 0o600, flag: "wx" });
      writeFileSync(publicPath, publicPem, { flag: "wx" });
      process.stderr.write(
        `Wrote a ${o.bits}-bit RSA key pair: ${privatePath} (private: keep it secret) and ${publicPath} (public).\n`,
      );
    });
}
