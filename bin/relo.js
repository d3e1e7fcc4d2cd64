#!/usr/bin/env node
// Node lets its heap grow lazily far past what an import keeps alive (a 1 GB import peaked at
// 310 MB RSS unbounded, 187 MB with a 160 MB old-space cap). The cap can only be set at start,
// so relo re-runs itself with one unless the caller chose a heap size already.
// RELO_HEAP_MB sets the cap (0: no cap).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const heapMb = process.env.RELO_HEAP_MB ?? "160";
const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((a) =>
  a.includes("max-old-space-size"),
);

if (chosen || heapMb === "0") {
  await import("../dist/cli/bin.js");
} else {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: "inherit" },
  );
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (sig) => child.kill(sig);
  for (const sig of signals) process.on(sig, forward);
  child.on("exit", (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    // End as the child did. Our own handlers would catch the re-raised signal (and relo would
    // exit 0), so they go first; 128 + its number is the shell's status if it still arrives late.
    for (const sig of signals) process.off(sig, forward);
    process.kill(process.pid, signal);
    process.exit(128 + (constants.signals[signal] ?? 0));
  });
}
