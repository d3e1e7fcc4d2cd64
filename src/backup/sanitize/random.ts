/**
 * The randomness sanitize draws from: bytes from the operating system's CSPRNG, fetched in 64 KiB
 * blocks so that millions of small draws stay cheap. Every replacement value is drawn here, so
 * nothing in a sanitized file can be derived from the original data.
 */
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 1 << 16;

export class Random {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private offset = POOL_BYTES;

  /** `n` fresh random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.byte();
    return out;
  }

  /** A uniform integer in [0, n), for 1 <= n <= 2^32 (rejection sampling: no modulo bias). */
  below(n: number): number {
    if (n <= 1) return 0;
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  /** A uniform integer in [low, high], inclusive; the span may be up to 2^53. */
  between(low: number, high: number): number {
    const span = high - low + 1;
    if (span <= 2 ** 32) return low + this.below(span);
    // 53 random bits scaled down: the bias is below 2^-20 for any span a datetime range has.
    const x = (this.uint32() >>> 11) * 2 ** 32 + this.uint32();
    return low + Math.floor((x / 2 ** 53) * span);
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  private uint32(): number {
    if (this.offset > POOL_BYTES - 4) this.refill();
    const x = this.pool.readUInt32LE(this.offset);
    this.offset += 4;
    return x;
  }

  private byte(): number {
    if (this.offset >= POOL_BYTES) this.refill();
    return this.pool[this.offset++];
  }

  private refill(): void {
    randomFillSync(this.pool);
    this.offset = 0;
  }
}
