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

export function parseEnvelope(body: Buffer): Envelope {
  let end = lineEnd(body, 0);
  const header = parseJsonLine(body, 0, end, "envelope header");
  const items: EnvelopeItem[] = [];
  let pos = end + 1;
  while (pos < body.length) {
    if (body[pos] === NEWLINE || (body[pos] === 0x0d && body[pos + 1] === NEWLINE)) {
      pos += body[pos] === NEWLINE ? 1 : 2;
      continue;
    }
    const offset = pos;
    end = lineEnd(body, pos);
    const itemHeader = parseJsonLine(body, pos, end, "item header");
    if (typeof itemHeader.type !== "string" || itemHeader.type === "") {
      throw new EnvelopeError(`item header at byte ${offset} has no type`);
    }
    pos = end + 1;
    const length = itemHeader.length;
    let payload: Buffer;
    if (length === undefined || length === null) {
      const stop = pos >= body.length ? body.length : lineEnd(body, pos);
      payload = body.subarray(Math.min(pos, body.length), stop);
      pos = stop + 1;
    } else {
      if (!Number.isSafeInteger(length) || (length as number) < 0) {
        throw new EnvelopeError(`item header at byte ${offset} has an invalid length`);
      }
      const left = Math.max(0, body.length - pos);
      if ((length as number) > left) {
        throw new EnvelopeError(
          `truncated envelope: the ${itemHeader.type} item at byte ${offset} declares ${length} bytes, ${left} are left`,
        );
      }
      payload = body.subarray(pos, pos + (length as number));
      pos += length as number;
      if (pos < body.length && body[pos] !== NEWLINE) {
        throw new EnvelopeError(`the ${itemHeader.type} item at byte ${offset} is longer than its length`);
      }
      pos += 1;
    }
    items.push({ header: itemHeader, payload, offset });
  }
  return { header, items };
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
