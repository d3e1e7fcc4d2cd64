/**
 * `relo backup compare LEFT RIGHT`: Sentry's validate() on two export files, with its summary
 * line, pretty findings and findings file. Unlike Sentry, the exit status says whether the
 * exports match (0) or not (1), and an unreadable input is an error, not a quiet exit 0.
 */
import { Command } from "@commander-js/extra-typings";
import { compareExports, UnknownModelError } from "../backup/compare/validate.js";
import { InputError } from "../backup/errors.js";
import { prettyFinding, writeFindingsFile } from "../backup/findings.js";
import { openSource, readEntries } from "../backup/reader.js";
import { addDecryptOptions, type PlainInput, plainInput } from "./backup-crypto.js";
import { checkWritable } from "./destination.js";

export function compareCommand() {
  const cmd = new Command("compare")
    .description("Compare two exports the way Sentry validates a relocation; exit 1 when they differ.")
    .argument("<left>", "the expected export (e.g. the original)")
    .argument("<right>", "the actual export (e.g. a re-export after import)")
    .option("--findings-file <path>", "write the findings, as JSON, to this file");
  addDecryptOptions(cmd, "left");
  addDecryptOptions(cmd, "right");
  return cmd.action(async (leftPath, rightPath, o) => {
    const opts = o as Record<string, unknown>;
    // Checked first: the findings are written only after both exports have been read.
    if (o.findingsFile) checkWritable(o.findingsFile, "--findings-file");
    const inputs: PlainInput[] = [];
    try {
      inputs.push(await plainInput(leftPath, opts, "left"));
      inputs.push(await plainInput(rightPath, opts, "right"));
      const findings = await compareExports({
        left: sideEntries(inputs[0].path, "left"),
        right: sideEntries(inputs[1].path, "right"),
      }).catch((err) => {
        if (err instanceof UnknownModelError)
          throw new InputError(`Invalid ${err.side} JSON: ${err.message}`);
        throw err;
      });
      process.stdout.write(`\n\nDone, found ${findings.length} differences:\n`);
      for (const f of findings) process.stderr.write(`\n\n${prettyFinding(f)}\n`);
      if (o.findingsFile) writeFindingsFile(o.findingsFile, findings);
      if (findings.length > 0) process.exitCode = 1;
    } finally {
      for (const i of inputs) i.cleanup();
    }
  });
}

/** A side's entries; a syntax error names the side, as Sentry's "Invalid left JSON" does. */
async function* sideEntries(path: string, side: "left" | "right") {
  try {
    yield* readEntries(openSource(path));
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`Invalid ${side} JSON: ${err.message}`, err.offset);
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new InputError(`Invalid ${side} JSON: ${path}: no such file`);
    throw err;
  }
}
