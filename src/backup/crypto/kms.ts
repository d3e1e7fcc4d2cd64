/**
 * Google Cloud KMS, for `--encrypt-with-gcp-kms` and `--decrypt-with-gcp-kms`: the public key of
 * an asymmetric-decrypt key version for encrypting, and remote RSA-OAEP decryption of `data.key`.
 *
 * The config file is Sentry's: one JSON object with exactly `project_id`, `location`, `key_ring`,
 * `key` and `version`. `@google-cloud/kms` is loaded only when a KMS flag is used (it is large).
 * relo talks to KMS over its REST API (the client's `fallback` mode), the same path its tests
 * exercise against a local fake. Credentials come from Application Default Credentials; the
 * `RELO_KMS_ENDPOINT` environment variable points the client elsewhere (an emulator or private
 * endpoint; with `http://` no credentials are sent).
 */
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { ReloError } from "../errors.js";
import { crc32c } from "./crc32c.js";
import { DecryptionError, EncryptionError } from "./errors.js";

/** A KMS CryptoKeyVersion, as Sentry's config file names its parts. */
export interface KmsKeyVersion {
  project_id: string;
  location: string;
  key_ring: string;
  key: string;
  version: string;
}

const FIELDS = ["project_id", "location", "key_ring", "key", "version"] as const;

/** Sentry's message (its text, on one line). */
export const KMS_CONFIG_FIELDS_MESSAGE =
  "Your supplied KMS configuration did not have the correct fields - please ensure that it is a single, top-level object with the fields `project_id` `location`, `key_ring`, `key`, and `version`, with all values as strings.";

/** Sentry's message when the plaintext CRC32C KMS returns does not match the plaintext. */
export const KMS_CORRUPTED_MESSAGE = "The response received from the server was corrupted in-transit.";

type Fail = new (reason: string) => Error;

/**
 * Parses a KMS config file. Like Sentry, it accepts exactly the five keys; values may be strings
 * or numbers (Sentry formats either into the key name), nothing else.
 */
export function parseKmsConfig(bytes: Uint8Array, source: string, fail: Fail): KmsKeyVersion {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new fail(`the KMS configuration ${source} is not valid JSON: ${(err as Error).message}`);
  }
  const keys = value && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : null;
  const fieldsOk =
    keys !== null &&
    keys.length === FIELDS.length &&
    FIELDS.every((f) => ["string", "number"].includes(typeof (value as Record<string, unknown>)[f]));
  if (!fieldsOk) throw new fail(KMS_CONFIG_FIELDS_MESSAGE);
  const record = value as Record<string, string | number>;
  return Object.fromEntries(FIELDS.map((f) => [f, String(record[f])])) as unknown as KmsKeyVersion;
}

/** The key version's resource name. */
export function keyVersionName(k: KmsKeyVersion): string {
  return `projects/${k.project_id}/locations/${k.location}/keyRings/${k.key_ring}/cryptoKeys/${k.key}/cryptoKeyVersions/${k.version}`;
}

async function openClient(): Promise<KeyManagementServiceClient> {
  const { KeyManagementServiceClient } = await import("@google-cloud/kms");
  const endpoint = process.env.RELO_KMS_ENDPOINT;
  if (!endpoint) return new KeyManagementServiceClient({ fallback: true });
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ReloError(`RELO_KMS_ENDPOINT is not a URL: ${endpoint}`);
  }
  const protocol = url.protocol.replace(/:$/, "");
  const port = Number(url.port || (protocol === "http" ? 80 : 443));
  const options = { fallback: true, protocol, apiEndpoint: url.hostname, port };
  if (protocol === "https") return new KeyManagementServiceClient(options);
  // Plain HTTP only reaches emulators; never send credentials over it.
  const anonymous = { getRequestHeaders: async () => new Headers(), fetch: globalThis.fetch };
  return new KeyManagementServiceClient({ ...options, authClient: anonymous as never });
}

/**
 * Runs `use` with a client, then closes it. The client starts a stub for long-running operations
 * as soon as it is built, which relo never uses; when credentials cannot be found that stub's
 * promises reject with no one listening, which would crash the process. The same failure reaches
 * `use` as an ordinary error, so those stray rejections are dropped while the client lives.
 */
async function withClient<T>(use: (c: KeyManagementServiceClient) => Promise<T>): Promise<T> {
  const stray = (reason: unknown) => {
    if (
      !/node_modules[\\/](google-gax|google-auth-library|gcp-metadata)/.test(String((reason as Error)?.stack))
    ) {
      throw reason;
    }
  };
  process.on("unhandledRejection", stray);
  try {
    const client = await openClient();
    try {
      return await use(client);
    } finally {
      await client.close();
    }
  } finally {
    await new Promise((settled) => setImmediate(settled));
    process.off("unhandledRejection", stray);
  }
}

/** The PEM public key of a KMS key version. */
export async function kmsPublicKey(k: KmsKeyVersion): Promise<string> {
  const name = keyVersionName(k);
  try {
    return await withClient(async (client) => {
      const [response] = await client.getPublicKey({ name });
      if (!response.pem) throw new Error("the response holds no PEM");
      return response.pem;
    });
  } catch (err) {
    if (err instanceof ReloError) throw err;
    throw new EncryptionError(`Google Cloud KMS could not give the public key of ${name}: ${describe(err)}`);
  }
}

/** Decrypts `data.key` with a KMS key version, checking CRC32C both ways as Google advises. */
export async function kmsDecrypt(k: KmsKeyVersion, ciphertext: Buffer): Promise<Buffer> {
  const name = keyVersionName(k);
  const response = await withClient(async (client) => {
    const [r] = await client.asymmetricDecrypt({
      name,
      ciphertext,
      ciphertextCrc32c: { value: crc32c(ciphertext) },
    });
    return r;
  }).catch((err) => {
    if (err instanceof ReloError) throw err;
    throw new DecryptionError(`Google Cloud KMS could not decrypt data.key with ${name}: ${describe(err)}`);
  });
  const plaintext = Buffer.from((response.plaintext as Uint8Array | null) ?? []);
  const sent = response.plaintextCrc32c?.value;
  if (sent === null || sent === undefined || Number(sent) !== crc32c(plaintext)) {
    throw new DecryptionError(KMS_CORRUPTED_MESSAGE);
  }
  if (response.verifiedCiphertextCrc32c === false) {
    throw new DecryptionError("The request sent to the server was corrupted in-transit.");
  }
  return plaintext;
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const first = String(e.message ?? err).split("\n")[0];
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${first} (${cause})` : first;
}
