/**
 * Sentry's envelope format: a JSON header line, then items, each a JSON header line followed by
 * its payload: exactly `length` bytes when the header gives a length (payloads may then hold
 * newlines or binary data), else everything up to the next newline.
 */

export interface EnvelopeItem {
  header: Record<string, unknown>;
  payload: Buffer;
  /** Byte offset of the item header in the (decompressed) envelope, for error messages. */
  offset: number;
}

export interface Envelope {
  header: Record<string, unknown>;
  items: EnvelopeItem[];
}

/** A malformed envelope or item; the message is the reason the client gets with a 400. */
export class EnvelopeError extends Error {
  override name = "EnvelopeError";
}

/** An envelope over a limit below; the message is the reason the client gets with a 413. */
export class EnvelopeTooLarge extends EnvelopeError {
  override name = "EnvelopeTooLarge";
}

/**
 * What parsing may take on, checked before each JSON.parse: a parsed header costs up to 30 times
 * its text in memory, so an envelope of millions of items, or of one huge header, could otherwise
 * exhaust the heap while its payloads stay small.
 */
export interface EnvelopeLimits {
  /** Items in one envelope (Relay counts per type; relo caps them all together). */
  maxItems: number;
  /** The envelope header and every item header together, bytes. */
  maxHeaderBytes: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = { maxItems: 1000, maxHeaderBytes: 256 * 1024 };

const NEWLINE = 0x0a;

function parseJsonLine(body: Buffer, start: number, end: number, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8", start, end));
  } catch (err) {
    throw new EnvelopeError(`invalid ${what} at byte ${start}: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new EnvelopeError(`invalid ${what} at byte ${start}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function lineEnd(body: Buffer, from: number): number {
  const i = body.indexOf(NEWLINE, from);
  return i === -1 ? body.length : i;
}

/** The payload of the item whose header ended at `pos - 1`, and where the next item starts. */
function readPayload(body: Buffer, pos: number, header: Record<string, unknown>, offset: number) {
  const length = header.length;
  if (length === undefined || length === null) {
    const stop = pos >= body.length ? body.length : lineEnd(body, pos);
    return { payload: body.subarray(Math.min(pos, body.length), stop), next: stop + 1 };
  }
  if (!Number.isSafeInteger(length) || (length as number) < 0) {
    throw new EnvelopeError(`item header at byte ${offset} has an invalid length`);
  }
  const left = Math.max(0, body.length - pos);
  if ((length as number) > left) {
    throw new EnvelopeError(
      `truncated envelope: the ${header.type} item at byte ${offset} declares ${length} bytes, ${left} are left`,
    );
  }
  const stop = pos + (length as number);
  if (stop < body.length && body[stop] !== NEWLINE) {
    throw new EnvelopeError(`the ${header.type} item at byte ${offset} is longer than its length`);
  }
  return { payload: body.subarray(pos, stop), next: stop + 1 };
}

export function parseEnvelope(body: Buffer, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): Envelope {
  let headerBytes = 0;
  const headerLine = (start: number, what: string) => {
    const end = lineEnd(body, start);
    headerBytes += end - start;
    if (headerBytes > limits.maxHeaderBytes) {
      throw new EnvelopeTooLarge(
        `the envelope's headers exceed ${limits.maxHeaderBytes} bytes (at byte ${start})`,
      );
    }
    return { end, header: parseJsonLine(body, start, end, what) };
  };
  const first = headerLine(0, "envelope header");
  const items: EnvelopeItem[] = [];
  let pos = first.end + 1;
  while (pos < body.length) {
    if (body[pos] === NEWLINE || (body[pos] === 0x0d && body[pos + 1] === NEWLINE)) {
      pos += body[pos] === NEWLINE ? 1 : 2;
      continue;
    }
    if (items.length >= limits.maxItems) {
      throw new EnvelopeTooLarge(`the envelope has more than ${limits.maxItems} items`);
    }
    const offset = pos;
    const { end, header } = headerLine(pos, "item header");
    if (typeof header.type !== "string" || header.type === "") {
      throw new EnvelopeError(`item header at byte ${offset} has no type`);
    }
    const { payload, next } = readPayload(body, end + 1, header, offset);
    items.push({ header, payload, offset });
    pos = next;
  }
  return { header: first.header, items };
}

/** Serializes an envelope, every item with its length (for tests, tools and the benchmark). */
export function serializeEnvelope(
  header: Record<string, unknown>,
  items: { header: object; payload: Buffer | string | object }[],
): Buffer {
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(header)}\n`)];
  for (const item of items) {
    const payload = Buffer.isBuffer(item.payload)
      ? item.payload
      : Buffer.from(typeof item.payload === "string" ? item.payload : JSON.stringify(item.payload));
    parts.push(
      Buffer.from(`${JSON.stringify({ ...item.header, length: payload.length })}\n`),
      payload,
      Buffer.from("\n"),
    );
  }
  return Buffer.concat(parts);
}
