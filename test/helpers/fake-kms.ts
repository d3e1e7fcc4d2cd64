/**
 * A stand-in for Google Cloud KMS's REST API, on 127.0.0.1 only, holding one RSA key version
 * (RSA_DECRYPT_OAEP_2048_SHA256). It serves the two calls relo makes, with the integrity fields
 * real KMS uses:
 * - `GET /v1/{name}/publicKey`: the PEM and its CRC32C;
 * - `POST /v1/{name}:asymmetricDecrypt`: checks `ciphertextCrc32c` (400 on mismatch, as KMS does),
 *   decrypts with RSA-OAEP-SHA256, returns the plaintext with its CRC32C and
 *   `verifiedCiphertextCrc32c: true`.
 * Unknown key names get KMS's 404. `corruptPlaintextCrc` makes the next decrypt answer with a
 * wrong plaintext CRC32C, as a response damaged in transit would look. Requests are recorded.
 */
import { constants, generateKeyPairSync, type KeyObject, privateDecrypt } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { crc32c } from "../../src/backup/crypto/crc32c.js";
import { type KmsKeyVersion, keyVersionName } from "../../src/backup/crypto/kms.js";

export interface FakeKmsRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
}

export interface FakeKms {
  /** For RELO_KMS_ENDPOINT. */
  url: string;
  keyVersion: KmsKeyVersion;
  privateKey: KeyObject;
  publicPem: string;
  requests: FakeKmsRequest[];
  corruptPlaintextCrc: boolean;
  /** Writes the key version as a Sentry KMS config file into `dir`; returns its path. */
  writeConfig(dir: string, overrides?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export const KEY_VERSION: KmsKeyVersion = {
  project_id: "relo-test",
  location: "global",
  key_ring: "relocation",
  key: "relocation",
  version: "1",
};

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function googleError(res: ServerResponse, code: number, status: string, message: string) {
  send(res, code, { error: { code, message, status } });
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : null;
}

export async function startFakeKms(): Promise<FakeKms> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
  const name = keyVersionName(KEY_VERSION);
  const fake = {
    keyVersion: KEY_VERSION,
    privateKey,
    publicPem,
    requests: [] as FakeKmsRequest[],
    corruptPlaintextCrc: false,
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = decodeURIComponent(url.pathname);
    const body = await readBody(req);
    fake.requests.push({ method: req.method ?? "", path, body });
    if (req.method === "GET" && path.endsWith("/publicKey")) {
      if (path !== `/v1/${name}/publicKey`) return notFound(res, path);
      return send(res, 200, {
        name,
        pem: publicPem,
        pemCrc32c: String(crc32c(Buffer.from(publicPem, "utf8"))),
        algorithm: "RSA_DECRYPT_OAEP_2048_SHA256",
        protectionLevel: "SOFTWARE",
      });
    }
    if (req.method === "POST" && path.endsWith(":asymmetricDecrypt")) {
      if (path !== `/v1/${name}:asymmetricDecrypt`) return notFound(res, path);
      const ciphertext = Buffer.from(String(body?.ciphertext ?? ""), "base64");
      if (body?.ciphertextCrc32c !== undefined && Number(body.ciphertextCrc32c) !== crc32c(ciphertext)) {
        return googleError(
          res,
          400,
          "INVALID_ARGUMENT",
          "The checksum in field ciphertext_crc32c did not match the data in field ciphertext.",
        );
      }
      let plaintext: Buffer;
      try {
        plaintext = privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
          ciphertext,
        );
      } catch {
        return googleError(res, 400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.");
      }
      const crc = crc32c(plaintext) ^ (fake.corruptPlaintextCrc ? 1 : 0);
      fake.corruptPlaintextCrc = false;
      return send(res, 200, {
        plaintext: plaintext.toString("base64"),
        plaintextCrc32c: String(crc >>> 0),
        verifiedCiphertextCrc32c: body?.ciphertextCrc32c !== undefined,
        protectionLevel: "SOFTWARE",
      });
    }
    googleError(res, 404, "NOT_FOUND", `no route ${req.method} ${path}`);
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;

  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    writeConfig(dir: string, overrides: Record<string, unknown> = {}) {
      const path = join(dir, "kms.json");
      writeFileSync(path, JSON.stringify({ ...KEY_VERSION, ...overrides }));
      return path;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  });
}

function notFound(res: ServerResponse, path: string) {
  googleError(
    res,
    404,
    "NOT_FOUND",
    `CryptoKeyVersion ${path.replace(/^\/v1\//, "").replace(/(\/publicKey|:asymmetricDecrypt)$/, "")} not found.`,
  );
}
