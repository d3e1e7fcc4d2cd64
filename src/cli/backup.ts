/**
 * `relo backup ...`: Sentry's `sentry backup` helpers for export files.
 */
import { Command } from "@commander-js/extra-typings";
import { decryptCommand, encryptCommand, keygenCommand } from "./backup-crypto.js";
import { compareCommand } from "./compare.js";
import { sanitizeCommand } from "./sanitize.js";

export function backupCommand(): Command {
  const cmd = new Command("backup").description(
    "Tools for export files: compare, encrypt, decrypt, make keys, sanitize.",
  );
  cmd.addCommand(compareCommand());
  cmd.addCommand(encryptCommand());
  cmd.addCommand(decryptCommand());
  cmd.addCommand(keygenCommand());
  cmd.addCommand(sanitizeCommand());
  return cmd;
}
