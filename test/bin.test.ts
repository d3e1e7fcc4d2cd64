/**
 * The installed entry point (bin/relo.js runs the built CLI under a heap cap): the README's quick
 * start, end to end. Needs `dist/`, which `npm ci` builds (the `prepare` script).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");

it("bin/relo.js imports the example export into a SQLite file", () => {
  const dir = mkdtempSync(join(tmpdir(), "relo-bin-"));
  try {
    const db = join(dir, "relo.db");
    const run = () =>
      execFileSync(
        process.execPath,
        ["bin/relo.js", "import", "organizations", "examples/two-orgs.json", "--db", db],
        {
          cwd: root,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
    expect(run()).toBe("");
    run();
    const sqlite = new Database(db, { readonly: true });
    const slugs = sqlite.prepare("SELECT slug FROM sentry_organization ORDER BY id").all() as {
      slug: string;
    }[];
    const keys = sqlite.prepare("SELECT COUNT(*) AS n FROM sentry_projectkey").get() as { n: number };
    sqlite.close();
    expect(slugs.map((s) => s.slug).slice(0, 2)).toEqual(["org-0", "org-1"]);
    expect(slugs[2].slug).toMatch(/^org-0-[a-z0-79]{2}$/);
    expect(keys.n).toBe(16);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
