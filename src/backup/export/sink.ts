/**
 * Buffered writing with backpressure: text is gathered into ~256 KiB blocks, and the exporter waits
 * whenever the destination's buffer is full, so memory stays flat however large the export.
 */
import type { Writable } from "node:stream";

const BLOCK = 256 * 1024;

export class Sink {
  private parts: string[] = [];
  private size = 0;
  /** Bytes handed to the destination so far (UTF-8). */
  bytes = 0;

  constructor(private readonly out: Writable) {}

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= BLOCK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(""), "utf8");
    this.parts = [];
    this.size = 0;
    this.bytes += buf.length;
    if (!this.out.write(buf)) await waitForDrain(this.out);
  }
}

function waitForDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off("drain", onDrain);
      out.off("error", done);
      out.off("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error("the destination closed before the export was written"));
    out.once("drain", onDrain);
    out.once("error", done);
    out.once("close", onClose);
  });
}
