/**
 * An append-only list of JSON records that may grow with the export (one problem or collision per
 * row, in a dry run of a large broken export), so it cannot live in memory: records are kept as
 * JSON lines in a temporary file once they pass 1 MB, and read back in order. The first few are
 * also kept as objects, for messages.
 */
import { appendFileSync, createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const FLUSH_BYTES = 1 << 20;

export class Spool<T> {
  private count = 0;
  private readonly head: T[] = [];
  private buffer: string[] = [];
  private bufferBytes = 0;
  private dir: string | null = null;

  /** `headSize`: how many records `first` keeps. */
  constructor(private readonly headSize = 100) {}

  push(item: T): void {
    this.count++;
    if (this.head.length < this.headSize) this.head.push(item);
    const line = JSON.stringify(item);
    this.buffer.push(line);
    this.bufferBytes += line.length;
    if (this.bufferBytes >= FLUSH_BYTES) this.flush();
  }

  get size(): number {
    return this.count;
  }

  /** The first `headSize` records. */
  get first(): readonly T[] {
    return this.head;
  }

  /** Every record as its JSON text, in the order pushed. */
  async *lines(): AsyncGenerator<string> {
    if (this.dir) {
      const input = createReadStream(this.file(), { encoding: "utf8" });
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        if (line !== "") yield line;
      }
    }
    yield* this.buffer;
  }

  /** Every record, in the order pushed. */
  async *items(): AsyncGenerator<T> {
    for await (const line of this.lines()) yield JSON.parse(line) as T;
  }

  /** Removes the temporary file, if any. */
  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  private file(): string {
    return join(this.dir as string, "records.jsonl");
  }

  private flush(): void {
    this.dir ??= mkdtempSync(join(tmpdir(), "relo-spool-"));
    appendFileSync(this.file(), `${this.buffer.join("\n")}\n`);
    this.buffer = [];
    this.bufferBytes = 0;
  }
}
