/**
 * The RSA side of an encrypted export: loading keys, wrapping and unwrapping the Fernet key with
 * RSA-OAEP (SHA-256 for the hash and for MGF1, no label), and the canonical public key PEM.
 *
 * The canonical form is SubjectPublicKeyInfo PEM with 64-character lines and a trailing newline,
 * which is what Python's `cryptography` writes and what Sentry compares `key.pub` against.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import { promisify } from "node:util";
import { DecryptionError, EncryptionError, KeyFileError } from "./errors.js";

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" } as const;

/** The canonical SPKI PEM of a public key (or of the public half of a private key). */
export function publicKeyPem(key: KeyObject): Buffer {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return Buffer.from(pub.export({ type: "spki", format: "pem" }) as string, "latin1");
}

/** Parses a PEM RSA public key, refusing private keys so one is never copied into `key.pub`. */
export function loadPublicKey(pem: Uint8Array, source: string): KeyObject {
  const text = Buffer.from(pem).toString("latin1");
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new EncryptionError(
      `${source} holds a private key; encrypting takes the public key (relo backup keygen writes both)`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(pem), format: "pem" });
  } catch {
    throw new EncryptionError(`${source} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new EncryptionError(`${source} holds a ${key.asymmetricKeyType} key; an RSA key is needed`);
  }
  return key;
}

/** Parses an unencrypted PEM RSA private key (PKCS#1 or PKCS#8), as Sentry accepts. */
export function loadPrivateKey(pem: Uint8Array, source: string): KeyObject {
  const text = Buffer.from(pem).toString("latin1");
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(text)) {
    throw new KeyFileError(
      `${source} is protected by a passphrase, which relo (like Sentry) cannot use; write an unprotected copy to a private place with \`openssl pkey -in ${source} -out PLAIN.pem\``,
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new KeyFileError(`${source} is not a PEM private key`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pem), format: "pem" });
  } catch {
    throw new KeyFileError(`${source} is not a readable PEM private key`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new KeyFileError(`${source} holds a ${key.asymmetricKeyType} key; an RSA key is needed`);
  }
  return key;
}

/** RSA-OAEP-SHA256 encryption of the Fernet key, as `data.key` holds it. */
export function wrapKey(publicKey: KeyObject, fernetKey: Uint8Array): Buffer {
  try {
    return publicEncrypt({ key: publicKey, ...OAEP }, fernetKey);
  } catch (err) {
    throw new EncryptionError(`RSA-OAEP encryption failed: ${(err as Error).message}`);
  }
}

/** Decrypts `data.key` with the private key. */
export function unwrapKey(privateKey: KeyObject, wrapped: Uint8Array): Buffer {
  try {
    return privateDecrypt({ key: privateKey, ...OAEP }, wrapped);
  } catch {
    throw new DecryptionError(
      "data.key could not be decrypted with the private key (RSA-OAEP): the file was altered or damaged",
    );
  }
}

/** True when `pem` holds the same public key as `key`, whatever the PEM's form or line endings. */
export function samePublicKey(pem: Uint8Array, key: KeyObject): boolean {
  let given: KeyObject;
  try {
    given = createPublicKey({ key: Buffer.from(pem), format: "pem" });
  } catch {
    return false;
  }
  // A private key in key.pub would "match" once its public half is derived; it is never valid there.
  if (/PRIVATE KEY/.test(Buffer.from(pem).toString("latin1"))) return false;
  const der = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  return der(given).equals(der(createPublicKey(key)));
}

/** A new RSA key pair: the private key as unencrypted PKCS#8 PEM, the public key as canonical SPKI PEM. */
export async function generateRsaKeyPair(bits: number): Promise<{ privatePem: Buffer; publicPem: Buffer }> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)("rsa", { modulusLength: bits });
  return {
    privatePem: Buffer.from(privateKey.export({ type: "pkcs8", format: "pem" }) as string, "latin1"),
    publicPem: publicKeyPem(publicKey),
  };
}
