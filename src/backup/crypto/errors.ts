/**
 * Errors of encrypted exports. Both are `ReloError`s: the CLI prints one line and exits 1.
 *
 * `reason` holds the bare cause, worded as Sentry words it where Sentry has a message (so
 * `backup compare` can print `Invalid left side tarball: <reason>` as Sentry does); `message`
 * adds the prefix a command prints on its own.
 */
import { ReloError } from "../errors.js";

/** A tarball could not be decrypted: wrong key, damaged or tampered file, bad KMS config. */
export class DecryptionError extends ReloError {
  override name = "DecryptionError";
  constructor(readonly reason: string) {
    super(`Invalid tarball: ${reason}`);
  }
}

/** An export could not be encrypted: unusable public key, bad KMS config, KMS failure. */
export class EncryptionError extends ReloError {
  override name = "EncryptionError";
  constructor(readonly reason: string) {
    super(`Cannot encrypt: ${reason}`);
  }
}

/** A `--decrypt-with` key file relo cannot use (not the tarball's fault, so no "Invalid tarball"). */
export class KeyFileError extends ReloError {
  override name = "KeyFileError";
}
