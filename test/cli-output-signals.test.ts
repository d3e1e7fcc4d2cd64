/**
 * An interrupted command leaves no partial output (the hidden temporary file beside DEST holds
 * unencrypted data), keeps the previous DEST, and ends with the signal's usual status, also
 * through bin/relo.js, which runs the CLI in a child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { writeKeyPair } from "./helpers/crypto.js";
import { fixture } from "./helpers/import.js";

const ROOT = resolve(import.meta.dirname, "..");

/** A program that starts writing DEST (encrypted if given a public key), then waits to be stopped. */
function writerScript(dir: string): string {
  const path = join(dir, "writer.ts");
  const src = (p: string) => JSON.stringify(join(ROOT, "src", p));
  writeFileSync(
    path,
    `import { readFileSync } from "node:fs";
import { localEncryptor } from ${src("backup/crypto/index.ts")};
import { encryptedDestination, openDestination } from ${src("cli/destination.ts")};
const [dest, pub] = process.argv.slice(2);
const out = pub ? encryptedDestination(dest, localEncryptor(readFileSync(pub), pub)) : openDestination(dest);
out.stream.write(Buffer.alloc(200_000, "x"));
setInterval(() => {}, 1000);
`,
  );
  return path;
}

async function until(what: string, ready: () => boolean): Promise<void> {
  const started = Date.now();
  while (!ready()) {
    if (Date.now() - started > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done) => child.on("exit", (code, signal) => done({ code, signal })));
}

/** Hidden files in `dir`: the temporary output and anything the encryption staged beside it. */
function hidden(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith("."));
}

describe("an interrupted output file", () => {
  const cases: [NodeJS.Signals, boolean][] = [
    ["SIGTERM", false],
    ["SIGINT", false],
    ["SIGTERM", true],
  ];
  for (const [signal, encrypted] of cases) {
    it(`${encrypted ? "an encrypted" : "a plain"} DEST: ${signal} removes the partial file`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "relo-cli-output-sig-"));
      const dest = join(dir, "out.json");
      writeFileSync(dest, "previous");
      const keys = writeKeyPair(mkdtempSync(join(tmpdir(), "relo-cli-output-keys-")));
      const args = ["--import", "tsx", writerScript(mkdtempSync(join(tmpdir(), "relo-cli-output-w-"))), dest];
      const child = spawn(process.execPath, encrypted ? [...args, keys.publicPath] : args, {
        cwd: ROOT,
        stdio: "ignore",
      });
      const exited = exitOf(child);
      // Data has reached the disk: the temporary file (or the encryption's, beside it) has grown.
      await until("the partial file", () =>
        hidden(dir).some((n) => readFileSync(join(dir, n)).length > (encrypted ? 512 : 0)),
      );
      child.kill(signal);
      expect((await exited).signal).toBe(signal);
      expect(readdirSync(dir)).toEqual(["out.json"]);
      expect(readFileSync(dest, "utf8")).toBe("previous");
    });
  }
});

describe("bin/relo.js interrupted", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`ends with ${signal}'s status, not 0, and leaves no partial file`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "relo-cli-output-bin-"));
      const dest = join(dir, "out.json");
      writeFileSync(dest, "previous");
      const child = spawn(process.execPath, ["bin/relo.js", "backup", "sanitize", dest, "--src", "-"], {
        cwd: ROOT,
        env: { ...process.env, RELO_HEAP_MB: "160" },
        stdio: ["pipe", "ignore", "ignore"],
      });
      const exited = exitOf(child);
      // Standard input stays open: relo is reading it, with DEST's temporary file made.
      child.stdin?.write(readFileSync(fixture("fresh-install.json")).subarray(0, 1000));
      await until("the temporary file", () => hidden(dir).length > 0);
      child.kill(signal);
      const { code, signal: got } = await exited;
      expect(got === signal || code === 128 + constants.signals[signal]).toBe(true);
      expect(readdirSync(dir)).toEqual(["out.json"]);
    });
  }
});
