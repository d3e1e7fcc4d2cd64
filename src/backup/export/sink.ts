/**
 * Buffered writing with backpressure: text is encoded straight into a 1 MiB block, which is handed
 * to the destination when full; the writer then waits whenever the destination's buffer is full,
 * so memory stays flat however large the export. `write` is synchronous and says when a flush is
 * due, so the hot loop awaits once per block instead of once per row.
 */
import type { Writable } from "node:stream";

const BLOCK = 1 << 20;

export class Sink {
  private block = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  /** Bytes handed to the destination so far (UTF-8). */
  bytes = 0;

  constructor(private readonly out: Writable) {}

  /** Adds text; returns true when the caller should `await flush()` before writing more. */
  write(text: string): boolean {
    // A UTF-16 unit takes at most 3 UTF-8 bytes.
    if (text.length * 3 <= BLOCK - this.used) {
      this.used += this.block.write(text, this.used, "utf8");
      return this.pending.length > 0;
    }
    // The block's text comes first, whether the new text fits a fresh block or needs its own buffer.
    if (this.used > 0) this.pending.push(this.take());
    if (text.length * 3 > BLOCK) this.pending.push(Buffer.from(text, "utf8"));
    else this.used = this.block.write(text, 0, "utf8");
    return true;
  }

  private pending: Buffer[] = [];

  private take(): Buffer {
    const full = this.block.subarray(0, this.used);
    this.block = Buffer.allocUnsafe(BLOCK);
    this.used = 0;
    return full;
  }

  /** Hands everything written so far to the destination, waiting if it is backed up. */
  async flush(): Promise<void> {
    if (this.used > 0) this.pending.push(this.take());
    const buffers = this.pending;
    this.pending = [];
    for (const buf of buffers) {
      failIfDestroyed(this.out);
      this.bytes += buf.length;
      if (!this.out.write(buf)) await waitForDrain(this.out);
    }
  }
}

/** A destroyed stream emits no more events, so waiting on it would never end. */
function failIfDestroyed(out: Writable): void {
  if (out.destroyed) throw out.errored ?? new Error(CLOSED);
}

const CLOSED = "the destination closed before the export was written";

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
    const onClose = () => done(out.errored ?? new Error(CLOSED));
    out.once("drain", onDrain);
    out.once("error", done);
    out.once("close", onClose);
    // It may have failed already (a file that could not be opened): its events are gone.
    if (out.destroyed) done(out.errored ?? new Error(CLOSED));
  });
}
