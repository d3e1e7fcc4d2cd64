/**
 * `relo backup ...`: Sentry's `sentry backup` helpers for export files.
 */
import { Command } from "@commander-js/extra-typings";
import { decryptCommand, encryptCommand, keygenCommand } from "./backup-crypto.js";

export function backupCommand(): Command {
  const cmd = new Command("backup").description("Tools for export files: encrypt, decrypt, make keys.");
  cmd.addCommand(encryptCommand());
  cmd.addCommand(decryptCommand());
  cmd.addCommand(keygenCommand());
  return cmd;
}
