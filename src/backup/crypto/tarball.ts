/**
 * The tar container of an encrypted export, as Sentry's `create_encrypted_export_tarball` writes
 * it with Python's `tarfile`: exactly three regular files, `export.json` (the Fernet token as
 * ASCII), `data.key` (the RSA-wrapped Fernet key) and `key.pub` (the PEM public key), in that
 * order, then two zero blocks, the whole padded to a multiple of 10240 bytes.
 *
 * The writer emits the same header bytes as Python 3.11's `tarfile` (mode 0644, uid/gid 0, mtime
 * 0, empty uname/gname, NUL device fields; a PAX `size` record for members of 8 GiB or more), so
 * the archives differ from Sentry's only in the encrypted contents. tar-stream's packer writes
 * other device fields, hence the few lines of header code here. Reading uses tar-stream, accepts
 * anything Python's reader accepts for these files (gzip too), and skips non-regular entries.
 */
import { createReadStream, type ReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { ReloError } from "../errors.js";
import { DecryptionError } from "./errors.js";

export const EXPORT_MEMBER = "export.json";
export const DATA_KEY_MEMBER = "data.key";
export const PUBLIC_KEY_MEMBER = "key.pub";
const MEMBERS = [EXPORT_MEMBER, DATA_KEY_MEMBER, PUBLIC_KEY_MEMBER];

const BLOCK = 512;
export const TAR_BLOCK = BLOCK;
const RECORD = 20 * BLOCK;
/** The largest size a 12-byte octal field holds (11 digits). */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;
/** RSA keys up to 16384 bits wrap into at most 2048 bytes; PEM public keys are a few kB. */
const MAX_DATA_KEY = 2048;
const MAX_PUBLIC_KEY = 64 * 1024;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** One ustar header block, byte for byte as Python's `tarfile` writes it for these members. */
function header(name: string, size: number, type = "0"): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "ascii");
  block.write(octal(type === "x" ? 0 : 0o644, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(0, 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write(type, 156, "ascii");
  block.write("ustar\u000000", 257, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0`, 148, "ascii");
  return block;
}

/** A PAX extended header carrying `size` (Python writes one when the octal field is too small). */
function paxSizeHeader(size: number): Buffer {
  const body = ` size=${size}\n`;
  let length = body.length;
  while (`${length}${body}`.length !== length) length = `${length}${body}`.length;
  const record = Buffer.from(`${length}${body}`, "ascii");
  return Buffer.concat([header("././@PaxHeader", record.length, "x"), record, padding(record.length)]);
}

/** The header block(s) of one member; exported for the byte-for-byte comparison with Python. */
export function memberHeader(name: string, size: number): Buffer {
  if (size <= MAX_OCTAL_SIZE) return header(name, size);
  return Buffer.concat([paxSizeHeader(size), header(name, 0)]);
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/**
 * The bytes of an encrypted-export tarball. `token` streams the Fernet token of `tokenSize`
 * bytes; it is read exactly once, after the first header.
 */
export async function* tarballChunks(
  token: AsyncIterable<Uint8Array>,
  tokenSize: number,
  dataKey: Buffer,
  publicKeyPem: Buffer,
): AsyncGenerator<Buffer> {
  const head = memberHeader(EXPORT_MEMBER, tokenSize);
  yield head;
  let seen = 0;
  for await (const chunk of token) {
    seen += chunk.length;
    yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  if (seen !== tokenSize)
    throw new Error(`export token changed size while writing (${seen} != ${tokenSize})`);
  yield tarballTail(head.length + tokenSize, dataKey, publicKeyPem);
}

/**
 * Everything after the token: its padding, `data.key`, `key.pub`, the two end blocks and the
 * padding to a whole 10240-byte record. `before` is the length of the archive up to the end of
 * the token.
 */
export function tarballTail(before: number, dataKey: Buffer, publicKeyPem: Buffer): Buffer {
  const parts = [padding(before)];
  for (const [name, body] of [
    [DATA_KEY_MEMBER, dataKey],
    [PUBLIC_KEY_MEMBER, publicKeyPem],
  ] as const) {
    parts.push(memberHeader(name, body.length), body, padding(body.length));
  }
  const members = before + parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc(2 * BLOCK + ((RECORD - ((members + 2 * BLOCK) % RECORD)) % RECORD)));
  return Buffer.concat(parts);
}

/** The largest token whose header is a single block (beyond it Python adds a PAX header). */
export const MAX_SINGLE_HEADER_SIZE = MAX_OCTAL_SIZE;

/** What the first pass over a tarball finds. */
export interface TarballParts {
  dataKey: Buffer;
  publicKeyPem: Buffer;
  /** Size of `export.json` in bytes. */
  exportSize: number;
}

/**
 * Reads the whole tarball once and checks its shape as Sentry does: every regular file must be
 * one of the three members (`Unknown tarball entity <name>`), and all three must be present.
 * Returns the two small members; `export.json` is left for `exportToken`.
 */
export async function scanTarball(path: string): Promise<TarballParts> {
  const found = new Map<string, Buffer | number>();
  for await (const { name, size, body } of regularMembers(path)) {
    if (!MEMBERS.includes(name)) throw new DecryptionError(`Unknown tarball entity ${name}`);
    if (found.has(name)) throw new DecryptionError(`the tarball holds ${name} twice`);
    if (name === EXPORT_MEMBER) {
      for await (const _ of body);
      found.set(name, size);
      continue;
    }
    const limit = name === DATA_KEY_MEMBER ? MAX_DATA_KEY : MAX_PUBLIC_KEY;
    if (size > limit) throw new DecryptionError(`${name} is ${size} bytes, more than the ${limit} it can be`);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    found.set(name, Buffer.concat(chunks));
  }
  const missing = MEMBERS.filter((m) => !found.has(m));
  if (missing.length > 0) {
    throw new DecryptionError(
      `A required file was missing from the temporary test tarball (missing: ${missing.join(", ")})`,
    );
  }
  return {
    exportSize: found.get(EXPORT_MEMBER) as number,
    dataKey: found.get(DATA_KEY_MEMBER) as Buffer,
    publicKeyPem: found.get(PUBLIC_KEY_MEMBER) as Buffer,
  };
}

/** Streams the `export.json` member of a tarball that `scanTarball` accepted; stops reading after it. */
export async function* exportToken(path: string): AsyncGenerator<Buffer> {
  for await (const { name, body } of regularMembers(path)) {
    if (name === EXPORT_MEMBER) {
      yield* body;
      return;
    }
    for await (const _ of body);
  }
}

interface Member {
  name: string;
  size: number;
  /** The member's bytes; must be read to the end before the next member is asked for. */
  body: AsyncIterable<Buffer>;
}

/**
 * The regular files of the tarball, in order. Other entries (directories, links) are skipped, as
 * Sentry's reader skips them. Tar and gzip failures become `DecryptionError`s.
 */
async function* regularMembers(path: string): AsyncGenerator<Member> {
  const source = await openTarStream(path);
  const extract = tar.extract();
  source.on("error", (err) => extract.destroy(err));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const { name, size, type } = entry.header;
      const body = readingErrors(entry as unknown as AsyncIterable<Buffer>);
      if (type === "file" || type === "contiguous-file") yield { name, size: size ?? 0, body };
      else for await (const _ of body);
    }
  } catch (err) {
    throw tarError(err);
  } finally {
    source.destroy();
    extract.destroy();
  }
}

async function* readingErrors(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (err) {
    throw tarError(err);
  }
}

function tarError(err: unknown): unknown {
  if (err instanceof ReloError) return err;
  const message = (err as Error).message ?? String(err);
  if (/Unexpected end of data/i.test(message)) {
    return new DecryptionError("the tarball is truncated (it ends in the middle of a member)");
  }
  if (/Invalid tar header/i.test(message)) {
    return new DecryptionError("this is not a tar archive (an encrypted export is a tarball)");
  }
  if ((err as NodeJS.ErrnoException).code?.startsWith("Z_")) {
    return new DecryptionError(`the gzip-compressed tarball is damaged: ${message}`);
  }
  return err;
}

/** The tar bytes of `path`, gunzipped when the file is gzip-compressed (as Python's reader allows). */
async function openTarStream(path: string): Promise<Readable> {
  const magic = Buffer.alloc(6);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw new ReloError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    await handle.read(magic, 0, magic.length, 0);
  } finally {
    await handle.close();
  }
  const file: ReadStream = createReadStream(path, { highWaterMark: 1 << 20 });
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    const gunzip = createGunzip();
    file.on("error", (err) => gunzip.destroy(err));
    return file.pipe(gunzip);
  }
  if (magic.subarray(0, 3).toString("latin1") === "BZh" || magic.toString("latin1") === "\xfd7zXZ\0") {
    file.destroy();
    throw new DecryptionError("the tarball is bzip2- or xz-compressed; decompress it first");
  }
  return file;
}
