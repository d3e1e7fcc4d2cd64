import { main } from "./main.js";

// A reader that stops early (`relo export - | head`) closes the pipe. Like a command killed by
// SIGPIPE, relo then stops at once and quietly, with status 141, instead of reporting a failed
// export; the database is only read or rolled back.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(141);
  throw err;
});

process.exitCode = await main(process.argv);
