/**
 * The `relo` command line: parses flags, calls the library, and turns errors into one clear
 * message and exit status 1. Only unexpected failures (bugs) show a stack trace.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { ReloError } from "../backup/errors.js";
import { backupCommand } from "./backup.js";
import { dbCommand } from "./db.js";
import { devCommand } from "./dev.js";
import { dsnCommand } from "./dsn.js";
import { eventsCommand } from "./events.js";
import { exportCommand } from "./export.js";
import { importCommand } from "./import.js";
import { serveCommand } from "./serve.js";

export function program(): Command {
  const p = new Command("relo")
    .description("Move Sentry organizations between instances; back up and restore whole instances.")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  p.addCommand(importCommand());
  p.addCommand(exportCommand());
  p.addCommand(backupCommand());
  p.addCommand(dbCommand());
  p.addCommand(devCommand());
  p.addCommand(serveCommand());
  p.addCommand(dsnCommand());
  p.addCommand(eventsCommand());
  for (const c of p.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return p;
}

function summary(err: ReloError): string {
  const e = err as ReloError & {
    finding?: {
      kind: string;
      on: { model: string; ordinal: number | null };
      left_pk: number | null;
      reason: string;
    };
    offset?: number;
  };
  if (!e.finding) return err.message;
  const where = [
    e.finding.on.model,
    e.finding.on.ordinal ? `#${e.finding.on.ordinal}` : "",
    e.finding.left_pk ? `(pk ${e.finding.left_pk})` : "",
    e.offset !== undefined ? `at byte ${e.offset}` : "",
  ];
  return `${e.finding.kind} in ${where.filter(Boolean).join(" ")}: ${e.finding.reason}`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    // A command that completes but must report failure (compare found differences) sets exitCode.
    process.exitCode = undefined;
    await program().parseAsync(argv);
    const code = typeof process.exitCode === "number" ? process.exitCode : 0;
    process.exitCode = undefined;
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ReloError) {
      process.stderr.write(`relo: error: ${summary(err)}\nNothing was changed.\n`);
      return 1;
    }
    process.stderr.write(`relo: internal error (please report it): ${(err as Error).stack ?? err}\n`);
    return 2;
  }
}
