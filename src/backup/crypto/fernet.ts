/**
 * Fernet (spec version 0x80), streamed, on node:crypto.
 *
 * A token is the base64url text (with `=` padding) of
 * `0x80 | 8-byte big-endian Unix seconds | 16-byte IV | AES-128-CBC ciphertext (PKCS#7) | HMAC`,
 * where the HMAC-SHA256 covers everything before it. The key is 32 random bytes, written as 44
 * characters of base64url: bytes 0-15 sign, bytes 16-31 encrypt. Sentry wraps those 44 characters
 * (not the raw 32 bytes) with RSA, so this module passes keys around in that text form.
 *
 * Both directions are Transforms so an export of any size passes through in bounded memory. The
 * HMAC sits at the end of the token, so decryption cannot know a token is authentic until it has
 * seen all of it: `FernetDecrypter` emits plaintext as it goes and fails at the end if the HMAC
 * does not match. Its output must therefore go somewhere private (a temporary file) and be used
 * only once the stream has finished without error.
 */

import type { Cipher, Decipher, Hmac } from "node:crypto";
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { DecryptionError } from "./errors.js";

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC = 32;
const BLOCK = 16;

/** A new Fernet key: 32 random bytes as 44 characters of padded base64url. */
export function generateFernetKey(): Buffer {
  return Buffer.from(randomBytes(32).toString("base64url") + "=", "latin1");
}

/** Splits a 44-character key into its signing and encryption halves, or throws `DecryptionError`. */
export function parseFernetKey(key: Uint8Array): { signing: Buffer; encryption: Buffer } {
  const text = Buffer.from(key).toString("latin1");
  if (!/^[A-Za-z0-9_-]{43}=?$/.test(text)) {
    throw new DecryptionError(
      "data.key does not hold a Fernet key (expected 44 characters of URL-safe base64)",
    );
  }
  const raw = Buffer.from(text, "base64url");
  return { signing: raw.subarray(0, 16), encryption: raw.subarray(16, 32) };
}

/** Encrypts a byte stream into a Fernet token (base64url text, padded). */
export class FernetEncrypter extends Transform {
  private readonly cipher: Cipher;
  private readonly hmac: Hmac;
  /** Bytes not yet base64-encoded (fewer than 3, so no padding appears mid-token). */
  private carry: Buffer;

  constructor(key: Uint8Array, now: Date = new Date()) {
    super();
    const { signing, encryption } = parseFernetKey(key);
    const iv = randomBytes(16);
    const header = Buffer.alloc(HEADER);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(Math.floor(now.getTime() / 1000)), 1);
    iv.copy(header, 9);
    this.cipher = createCipheriv("aes-128-cbc", encryption, iv);
    this.hmac = createHmac("sha256", signing).update(header);
    this.carry = header;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const ciphertext = this.cipher.update(chunk);
    this.hmac.update(ciphertext);
    this.encode(ciphertext);
    done();
  }

  override _flush(done: TransformCallback): void {
    const last = this.cipher.final();
    this.hmac.update(last);
    this.encode(last);
    this.encode(this.hmac.digest());
    // Node's base64url drops the `=` padding Fernet keeps, so the last group goes through base64.
    const tail = this.carry.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
    if (tail) this.push(Buffer.from(tail, "latin1"));
    done();
  }

  private encode(bytes: Buffer): void {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, bytes]) : bytes;
    const whole = data.length - (data.length % 3);
    if (whole > 0) this.push(Buffer.from(data.subarray(0, whole).toString("base64url"), "latin1"));
    this.carry = Buffer.from(data.subarray(whole));
  }
}

// Python's decoder (which Sentry's tokens go through) also takes the standard alphabet's + and /.
const NOT_BASE64 = /[^A-Za-z0-9_\-+/]/;

/**
 * Decrypts a Fernet token (base64url text, with or without padding) into its plaintext. Any
 * timestamp is accepted (Sentry decrypts with no TTL). Fails with `DecryptionError` on a
 * malformed token, and at the end of the stream when the HMAC does not match: plaintext emitted
 * before that is not authentic until the stream has finished cleanly.
 */
export class FernetDecrypter extends Transform {
  private readonly signing: Buffer;
  private readonly encryption: Buffer;
  private decipher: Decipher | null = null;
  private hmac: Hmac | null = null;
  /** Base64 characters not yet decoded (fewer than 4). */
  private carry = "";
  private padded = false;
  private seen = 0;
  /** Decoded bytes held back: the header until it is complete, then always the last 32 (the HMAC candidate). */
  private pending: Buffer = Buffer.alloc(0);
  private bodyBytes = 0;

  constructor(key: Uint8Array) {
    super();
    ({ signing: this.signing, encryption: this.encryption } = parseFernetKey(key));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.decodeFast(chunk)) this.decode(chunk.toString("latin1"));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.finish();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  /**
   * Decodes a chunk of plain base64url straight from the buffer, or returns false (changing
   * nothing) when it holds padding or invalid characters, which `decode` then handles and reports.
   * Node's decoder skips characters it does not know, so a short result means there were some.
   */
  private decodeFast(chunk: Buffer): boolean {
    const head = this.carry.length === 0 ? 0 : 4 - this.carry.length;
    if (this.padded || chunk.length < head + 4) return false;
    const end = chunk.length - ((chunk.length - head) % 4);
    const first = head > 0 ? Buffer.from(this.carry + chunk.toString("latin1", 0, head), "base64url") : null;
    const rest = Buffer.from(chunk.toString("latin1", head, end), "base64url");
    if ((first && first.length !== 3) || rest.length !== ((end - head) / 4) * 3) return false;
    this.seen += chunk.length;
    this.carry = chunk.toString("latin1", end);
    this.feed(first ? Buffer.concat([first, rest]) : rest);
    return true;
  }

  private decode(text: string): void {
    const pad = text.indexOf("=");
    const data = pad === -1 ? text : text.slice(0, pad);
    if (this.padded && text.length > 0 && !/^=*$/.test(text)) throw this.malformed(this.seen);
    if (pad !== -1) {
      if (!/^=*$/.test(text.slice(pad))) throw this.malformed(this.seen + pad);
      this.padded = true;
    }
    const bad = data.search(NOT_BASE64);
    if (bad !== -1) throw this.malformed(this.seen + bad);
    this.seen += text.length;
    const all = this.carry + data;
    const whole = all.length - (all.length % 4);
    this.carry = all.slice(whole);
    if (whole > 0) this.feed(Buffer.from(all.slice(0, whole), "base64url"));
  }

  /** Takes decoded token bytes: the header first, then ciphertext, holding back the last 32 (the HMAC). */
  private feed(bytes: Buffer): void {
    let data = bytes;
    if (!this.decipher) {
      this.pending = Buffer.concat([this.pending, bytes]);
      if (this.pending.length < HEADER + MAC) return;
      this.start(this.pending.subarray(0, HEADER));
      data = this.pending.subarray(HEADER);
      this.pending = Buffer.alloc(0);
    }
    if (data.length >= MAC) {
      this.ciphertext(this.pending);
      this.ciphertext(data.subarray(0, data.length - MAC));
      this.pending = Buffer.from(data.subarray(data.length - MAC));
    } else {
      const all = Buffer.concat([this.pending, data]);
      this.ciphertext(all.subarray(0, all.length - MAC));
      this.pending = Buffer.from(all.subarray(all.length - MAC));
    }
  }

  private ciphertext(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.hmac!.update(bytes);
    this.bodyBytes += bytes.length;
    this.push(this.decipher!.update(bytes));
  }

  private start(header: Buffer): void {
    if (header[0] !== VERSION) {
      throw new DecryptionError(
        `export.json is not a Fernet token: version byte 0x${header[0].toString(16).padStart(2, "0")}, expected 0x80`,
      );
    }
    this.decipher = createDecipheriv("aes-128-cbc", this.encryption, header.subarray(9, HEADER));
    this.hmac = createHmac("sha256", this.signing).update(header);
  }

  private finish(): void {
    if (this.carry.length === 1) throw this.malformed(this.seen);
    if (this.carry.length > 0) this.feed(Buffer.from(this.carry, "base64url"));
    if (!this.decipher || this.bodyBytes === 0 || this.bodyBytes % BLOCK !== 0) {
      throw new DecryptionError("export.json is not a Fernet token: it is truncated or has a partial block");
    }
    const expected = this.hmac!.digest();
    if (!timingSafeEqual(expected, this.pending)) {
      throw new DecryptionError(
        "export.json failed its integrity check (HMAC mismatch): the file was altered or damaged",
      );
    }
    let last: Buffer;
    try {
      last = this.decipher.final();
    } catch {
      throw new DecryptionError("export.json has invalid padding after decryption");
    }
    this.push(last);
  }

  private malformed(at: number): DecryptionError {
    return new DecryptionError(`export.json is not a Fernet token: invalid base64url at character ${at}`);
  }
}
