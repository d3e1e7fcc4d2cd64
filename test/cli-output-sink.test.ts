/**
 * The export's buffered writer: text comes out in the order it went in, however large one piece
 * is, and a destination that failed makes the writer fail instead of waiting for it forever.
 */
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Sink } from "../src/backup/export/sink.js";

function collector() {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** Writes `pieces` the way the export does (flushing when asked) and returns what came out. */
async function through(pieces: string[]): Promise<string> {
  const { out, text } = collector();
  const sink = new Sink(out);
  for (const p of pieces) if (sink.write(p)) await sink.flush();
  await sink.flush();
  return text();
}

describe("Sink", () => {
  it("writes a text larger than its block after the text already in the block", async () => {
    const big = "x".repeat(3_000_000);
    const pieces = ["[", '{"pk": 1}', `,{"value": "${big}"}`, ',{"pk": 3}', "]"];
    const written = await through(pieces);
    expect(written.slice(0, 10)).toBe('[{"pk": 1}');
    expect(written).toBe(pieces.join(""));
  });

  it("keeps the order when a text only overflows the space left in the block", async () => {
    const pieces = Array.from({ length: 8 }, (_, i) => `${i}${"é".repeat(150_000 + i)}`);
    expect(await through(pieces)).toBe(pieces.join(""));
  });

  it("rejects instead of waiting when its destination already failed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "relo-sink-"));
    const out = createWriteStream(join(dir, "missing", "out.json"));
    out.on("error", () => {});
    await new Promise<void>((done) => out.on("close", done)); // the open failed; its events are over
    const sink = new Sink(out);
    sink.write("x".repeat(2_000_000));
    await expect(sink.flush()).rejects.toThrow(/ENOENT/);
  }, 10_000);
});
