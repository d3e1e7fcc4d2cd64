import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { JSONParser } from "@streamparser/json";
import { describe, expect, it } from "vitest";
import { JsonSyntaxError, openSource, type RawEntry, readEntries } from "../src/backup/reader.js";
import { prng } from "../src/dev/prng.js";

const FIXTURES = "/work/shared/fixtures/sentry";
const BOM = "\uFEFF";

interface Outcome {
  entries: RawEntry[];
  error?: { message: string; offset: number };
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  // Fresh copies, as a stream would hand over.
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === "string" ? Buffer.from(input, "utf8") : input;
}

async function collect(source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): Promise<Outcome> {
  const entries: RawEntry[] = [];
  try {
    for await (const entry of readEntries(source)) entries.push(entry);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { entries, error: { message: err.message, offset: err.offset } };
  }
  return { entries };
}

async function readInChunks(input: string | Uint8Array, size: number): Promise<Outcome> {
  return collect(chunked(bytesOf(input), size));
}

/** Reads `input` in 1-byte, 7-byte and whole chunks; all three must agree. */
async function read(input: string | Uint8Array): Promise<Outcome> {
  const bytes = bytesOf(input);
  const whole = await readInChunks(bytes, Math.max(1, bytes.length));
  expect(await readInChunks(bytes, 1)).toEqual(whole);
  expect(await readInChunks(bytes, 7)).toEqual(whole);
  return whole;
}

async function expectEntries(
  input: string | Uint8Array,
  expected: [unknown, string, number][],
): Promise<void> {
  const outcome = await read(input);
  expect(outcome.error).toBeUndefined();
  expect(outcome.entries).toEqual(
    expected.map(([value, text, offset], index) => ({ value, text, offset, index })),
  );
}

async function expectError(input: string | Uint8Array, offset: number, reason: RegExp): Promise<Outcome> {
  const outcome = await read(input);
  expect(outcome.error, "expected a JsonSyntaxError").toBeDefined();
  expect(outcome.error!.offset).toBe(offset);
  expect(outcome.error!.message).toMatch(new RegExp(`^invalid JSON at byte ${offset}: ${reason.source}`));
  return outcome;
}

describe("readEntries accepts", () => {
  it("an empty array, with any surrounding whitespace and a BOM", async () => {
    await expectEntries("[]", []);
    await expectEntries(" \r\n\t[ \n ]\n\n", []);
    await expectEntries(`${BOM}[]`, []);
    await expectEntries(`${BOM}\n[\n]\n`, []);
  });

  it("a compact export, with offsets and texts of each element", async () => {
    const a = '{"model":"sentry.user","pk":1,"fields":{"username":"a"}}';
    const b = '{"model":"sentry.email","pk":2,"fields":{}}';
    await expectEntries(`[${a},${b}]`, [
      [{ model: "sentry.user", pk: 1, fields: { username: "a" } }, a, 1],
      [{ model: "sentry.email", pk: 2, fields: {} }, b, 2 + a.length],
    ]);
  });

  it("a Django-style pretty layout", async () => {
    const a = '{\n  "model": "sentry.option",\n  "pk": 1,\n  "fields": {\n    "key": "x"\n  }\n}';
    const b = '{\n  "model": "sentry.option",\n  "pk": 2,\n  "fields": {}\n}';
    await expectEntries(`[\n${a},\n${b}\n]\n`, [
      [{ model: "sentry.option", pk: 1, fields: { key: "x" } }, a, 2],
      [{ model: "sentry.option", pk: 2, fields: {} }, b, 4 + a.length],
    ]);
  });

  it("a BOM, counted in offsets", async () => {
    await expectEntries(`${BOM}[{"a":1}]`, [[{ a: 1 }, '{"a":1}', 4]]);
    await expectEntries(`${BOM}  [ 1 ]`, [[1, "1", 7]]);
  });

  it("elements of any JSON type", async () => {
    await expectEntries('[1, "a", [2], null, true, false, -1.5e3, {}, [], 0, ""]', [
      [1, "1", 1],
      ["a", '"a"', 4],
      [[2], "[2]", 9],
      [null, "null", 14],
      [true, "true", 20],
      [false, "false", 26],
      [-1500, "-1.5e3", 33],
      [{}, "{}", 41],
      [[], "[]", 45],
      [0, "0", 49],
      ["", '""', 52],
    ]);
  });

  it("an element's text exactly as written, inner whitespace included", async () => {
    await expectEntries('[ { "a" : [ 1 , 2 ] } ,\t3\n]', [
      [{ a: [1, 2] }, '{ "a" : [ 1 , 2 ] }', 2],
      [3, "3", 24],
    ]);
  });

  it("strings holding brackets, commas, escaped quotes and backslashes", async () => {
    const doc = String.raw`["[", "]", "{", "}", ",", "\"", "\\", "\\\"", "a\\\\", {"k": "}],[{\"\\"}, "\"]"]`;
    const outcome = await read(doc);
    expect(outcome.error).toBeUndefined();
    expect(outcome.entries.map((e) => e.value)).toEqual(JSON.parse(doc));
    expect(outcome.entries.map((e) => e.text)).toEqual([
      '"["',
      '"]"',
      '"{"',
      '"}"',
      '","',
      String.raw`"\""`,
      String.raw`"\\"`,
      String.raw`"\\\""`,
      String.raw`"a\\\\"`,
      String.raw`{"k": "}],[{\"\\"}`,
      String.raw`"\"]"`,
    ]);
  });

  it("multi-byte characters, with offsets in bytes", async () => {
    // `{"name":"héllo 日本 😀"}` is 29 bytes: é is 2, each CJK character 3, the emoji 4.
    await expectEntries('[{"name":"héllo 日本 😀"}, "€", "\\u00e9"]', [
      [{ name: "héllo 日本 😀" }, '{"name":"héllo 日本 😀"}', 1],
      ["€", '"€"', 32],
      ["é", '"\\u00e9"', 39],
    ]);
  });

  it("an element spanning many chunks", async () => {
    const long = 'x€\\"'.repeat(5000);
    const doc = `[{"a":"${long}"}, {"b":[${"[".repeat(100)}${"]".repeat(100)}]}]`;
    const outcome = await read(doc);
    expect(outcome.error).toBeUndefined();
    expect(outcome.entries.map((e) => e.value)).toEqual(JSON.parse(doc));
    expect(outcome.entries[1].offset).toBe(Buffer.byteLength(`[{"a":"${long}"}, `));
  });

  it("deep nesting", async () => {
    const deep = `${'[{"a":'.repeat(300)}1${"}]".repeat(300)}`;
    await expectEntries(`[${deep}]`, [[JSON.parse(deep), deep, 1]]);
  });

  it("Node streams, plain Uint8Array chunks and string chunks", async () => {
    const doc = '[{"a":"é"}, 2]';
    const expected = [
      { value: { a: "é" }, text: '{"a":"é"}', offset: 1, index: 0 },
      { value: 2, text: "2", offset: 13, index: 1 },
    ];
    const buffers = [Buffer.from(doc.slice(0, 5)), Buffer.from(doc.slice(5))];
    expect(await collect(Readable.from(buffers))).toEqual({ entries: expected });
    const plain = buffers.map((b) => new Uint8Array(b));
    expect(await collect(Readable.from(plain))).toEqual({ entries: expected });
    const text = Readable.from(buffers).setEncoding("utf8");
    expect(await collect(text)).toEqual({ entries: expected });
  });
});

describe("readEntries rejects", () => {
  it("an empty input", async () => {
    await expectError("", 0, /empty input: expected a JSON array/);
    await expectError(" \n\t", 3, /empty input: expected a JSON array/);
    await expectError(BOM, 3, /empty input: expected a JSON array/);
  });

  it("a top level that is not an array", async () => {
    await expectError("{}", 0, /expected '\[' to start the top-level array, found '\{'/);
    await expectError('"x"', 0, /expected '\[' to start the top-level array, found '"'/);
    await expectError("null", 0, /expected '\['/);
    await expectError('  {"model": "a"}', 2, /expected '\['/);
    await expectError(`${BOM}{}`, 3, /expected '\['/);
  });

  it("a BOM that is not at byte 0, or is incomplete", async () => {
    await expectError(` ${BOM}[]`, 1, /expected '\[' to start the top-level array, found byte 0xEF/);
    await expectError(
      Buffer.from([0xef, 0xbb, 0x5b, 0x5d]),
      0,
      /expected '\[' to start the top-level array, found byte 0xEF/,
    );
    await expectError(Buffer.from([0xef]), 0, /expected '\['/);
  });

  it("a missing comma between elements", async () => {
    await expectError("[1 2]", 3, /expected ',' or '\]' after an array element, found '2'/);
    await expectError("[{} {}]", 4, /expected ',' or '\]' after an array element, found '\{'/);
    await expectError('[{"a":1}\n{"b":2}]', 9, /expected ',' or '\]' after an array element/);
    await expectError('[1"a"]', 2, /expected ',' or '\]' after an array element, found '"'/);
  });

  it("a doubled or leading comma", async () => {
    await expectError("[1,,2]", 3, /expected a value after ',', found ','/);
    await expectError("[1, ,2]", 4, /expected a value after ','/);
    await expectError("[,1]", 1, /expected a value or '\]' after '\[', found ','/);
  });

  it("a trailing comma, at the comma", async () => {
    await expectError("[1,]", 2, /trailing comma before '\]'/);
    await expectError("[{},\n]", 3, /trailing comma before '\]'/);
  });

  it("anything but whitespace after the closing bracket", async () => {
    await expectError("[1] x", 4, /unexpected 'x' after the end of the top-level array/);
    await expectError("[]]", 2, /unexpected '\]' after the end/);
    await expectError("[][]", 2, /unexpected '\[' after the end/);
    await expectError(Buffer.from("[1]\n\x00", "latin1"), 4, /unexpected byte 0x00 after the end/);
  });

  it("a byte that cannot start a value", async () => {
    await expectError("[}]", 1, /expected a value or '\]' after '\[', found '\}'/);
    await expectError("[1, :]", 4, /expected a value after ',', found ':'/);
  });

  it("truncated input, at the end of input", async () => {
    await expectError("[", 1, /unexpected end of input: expected a value or '\]' after '\['/);
    await expectError("[1", 2, /unexpected end of input: expected ',' or '\]' after an array element/);
    await expectError("[1,", 3, /unexpected end of input: expected a value after ','/);
    await expectError('[{"a":1}', 8, /unexpected end of input: expected ',' or '\]'/);
    await expectError('[{"a":1},\n', 10, /unexpected end of input: expected a value after ','/);
    await expectError('[{"a":1', 7, /unexpected end of input inside array element 0/);
    await expectError('[{"a":[1, 2]}, {"b": [', 22, /unexpected end of input inside array element 1/);
    await expectError('[{"a":"xx', 9, /unexpected end of input inside a string \(array element 0\)/);
    await expectError('["abc\\"]', 8, /unexpected end of input inside a string/);
    await expectError('["abc\\', 6, /unexpected end of input inside a string/);
    await expectError(Buffer.from('["é').subarray(0, 3), 3, /unexpected end of input inside a string/);
  });

  it("truncated input, at an earlier problem in the last element", async () => {
    await expectError('[{"a":1 "b"', 8, /expected ',' or '\}' after property value/);
    await expectError('[{"a":"\u0001', 7, /bad control character in string literal/);
    await expectError('[1, {"a":', 1 + 3 + 5, /unexpected end of input inside array element 1/);
    await expectError(Buffer.from('[{"a":"\xffxyz', "latin1"), 7, /invalid UTF-8 byte sequence/);
  });

  it("a malformed element, at the offending byte", async () => {
    await expectError('[{"a":1 "b":2}]', 8, /expected ',' or '\}' after property value \(array element 0\)/);
    await expectError('[{"a":}]', 6, /unexpected '\}' \(array element 0\)/);
    await expectError('[{"a":[1,]}]', 9, /unexpected '\]'/);
    await expectError('[{"a":nul}]', 9, /unexpected '\}'/);
    await expectError('[{"a":1,}]', 8, /expected double-quoted property name/);
    await expectError('[{"a":"\\x"}]', 8, /bad escaped character/);
    await expectError('[{"a":"\u0001"}]', 7, /bad control character in string literal/);
    await expectError('[{"a": 01}]', 8, /unexpected number/);
    await expectError("[x]", 1, /unexpected 'x'/);
    await expectError("[-]", 2, /no number after minus sign/);
  });

  it("a malformed element after multi-byte characters, converting chars to bytes", async () => {
    await expectError('[{"é":1 "b":2}]', 9, /expected ',' or '\}' after property value/);
    await expectError('[{"😀":[1,2,]}]', 14, /unexpected '\]'/);
  });

  it("a cut-short literal, at the byte after it (as V8 on the whole document)", async () => {
    await expectError("[1, tru]", 7, /incomplete value \(array element 1\)/);
    await expectError('[f"alse]', 2, /incomplete value/);
    await expectError("[nul l]", 4, /incomplete value/);
  });

  it("a closing bracket that does not match its opener", async () => {
    await expectError('[{"a":[1}]', 8, /expected ',' or '\]' after array element/);
    await expectError('[{"a" ]}]', 6, /expected ':' after property name/);
    await expectError("[{]", 2, /expected property name or '\}'/);
    // Without this check the element would swallow the rest of the input.
    await expectError('[{"a":[1}, {"b": 2}, 3]', 8, /expected ',' or '\]'/);
  });

  it("invalid UTF-8, at the first bad byte", async () => {
    const withBytes = (...bytes: number[]) =>
      Buffer.concat([Buffer.from('[{"a":"'), Buffer.from(bytes), Buffer.from('"}]')]);
    await expectError(withBytes(0x61, 0xff), 8, /invalid UTF-8 byte sequence/);
    await expectError(withBytes(0xc0, 0x80), 7, /invalid UTF-8/); // overlong
    await expectError(withBytes(0xe2, 0x82), 7, /invalid UTF-8/); // truncated sequence
    await expectError(withBytes(0xed, 0xa0, 0x80), 7, /invalid UTF-8/); // surrogate
    await expectError(withBytes(0xf4, 0x90, 0x80, 0x80), 7, /invalid UTF-8/); // above U+10FFFF
    // A stray byte where a value should start is read as a (bad) bare value.
    await expectError(Buffer.from([0x5b, 0x31, 0x2c, 0x80, 0x5d]), 3, /invalid UTF-8/);
  });

  it("after yielding every element before the problem", async () => {
    const outcome = await expectError(
      '[{"a":1}, {"b":2}, {"c":}]',
      24,
      /unexpected '\}' \(array element 2\)/,
    );
    expect(outcome.entries.map((e) => e.value)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it("with a JsonSyntaxError that carries offset and reason", async () => {
    const err = await readInChunks("[1,]", 4).then((o) => o.error);
    expect(err).toEqual({ message: "invalid JSON at byte 2: trailing comma before ']'", offset: 2 });
    const thrown = await readEntries(chunked(Buffer.from("{}"), 2))
      .next()
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(JsonSyntaxError);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({
      name: "JsonSyntaxError",
      offset: 0,
      reason: expect.stringMatching(/^expected '\['/),
    });
  });
});

describe("readEntries with a stream", () => {
  it("stops reading when the consumer stops", async () => {
    const stream = Readable.from([Buffer.from("[1,"), Buffer.from("2,"), Buffer.from("3]")]);
    for await (const entry of readEntries(stream)) {
      expect(entry.value).toBe(1);
      break;
    }
    expect(stream.destroyed).toBe(true);
  });

  it("passes on a read error unchanged", async () => {
    const stream = openSource(join(FIXTURES, "does-not-exist.json"));
    await expect(collect(stream)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("openSource", () => {
  it('reads standard input for "-"', () => {
    expect(openSource("-")).toBe(process.stdin);
  });

  it("reads a file in 1 MiB chunks", () => {
    const stream = openSource(join(FIXTURES, "single-option.json")) as Readable;
    expect(stream.readableHighWaterMark).toBe(1 << 20);
    stream.destroy();
  });
});

describe("the Sentry fixtures", () => {
  const files = readdirSync(FIXTURES).filter(
    (f) => f.endsWith(".json") && statSync(join(FIXTURES, f)).isFile(),
  );

  it("are all present", () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it.each(files)("%s parses to the same as JSON.parse of the whole file", async (file) => {
    const path = join(FIXTURES, file);
    const bytes = readFileSync(path);
    const expected = JSON.parse(bytes.toString("utf8"));
    const streamed = await collect(openSource(path));
    expect(streamed.error).toBeUndefined();
    expect(streamed.entries.map((e) => e.value)).toEqual(expected);
    expectTextsMatchSource(bytes, streamed.entries);
    const small = await readInChunks(bytes, 7);
    expect(small).toEqual(streamed);
  });
});

/** Each entry's text is the source bytes at its offset, and parses to its value. */
function expectTextsMatchSource(bytes: Uint8Array, entries: RawEntry[]): void {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  entries.forEach((entry, index) => {
    expect(entry.index).toBe(index);
    const length = Buffer.byteLength(entry.text);
    expect(source.toString("utf8", entry.offset, entry.offset + length)).toBe(entry.text);
    expect(JSON.parse(entry.text)).toEqual(entry.value);
  });
}

// ---- generated documents -------------------------------------------------------------------

type Random = () => number;
const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const int = (rand: Random, below: number) => Math.floor(rand() * below);

const CHARS = ["a", "Z", "0", " ", "[", "]", "{", "}", ",", ":", '"', "\\", "/", "\n", "\t", "\u0001"];
const WIDE = ["é", "日", "😀", "\u2028", "€", "\u007f"];

function randomString(rand: Random): string {
  let s = "";
  for (let n = int(rand, 12); n > 0; n--) s += rand() < 0.75 ? pick(rand, CHARS) : pick(rand, WIDE);
  return s;
}

function randomNumberText(rand: Random): string {
  switch (int(rand, 6)) {
    case 0:
      return String(int(rand, 2000) - 1000);
    case 1:
      return String((rand() - 0.5) * 10 ** int(rand, 12));
    case 2:
      return `${int(rand, 10)}.${int(rand, 1000)}e${pick(rand, ["", "+", "-"])}${int(rand, 30)}`;
    case 3:
      return `-${int(rand, 9) + 1}E${int(rand, 5)}`;
    case 4:
      return String(Number.MAX_SAFE_INTEGER - int(rand, 10));
    default:
      return "0";
  }
}

function randomValue(rand: Random, depth: number): unknown {
  const kind = int(rand, depth >= 4 ? 4 : 7);
  if (kind === 0) return { $number: randomNumberText(rand) };
  if (kind === 1) return randomString(rand);
  if (kind === 2) return pick(rand, [true, false, null]);
  if (kind === 3) return int(rand, 100);
  if (kind === 4) return Array.from({ length: int(rand, 4) }, () => randomValue(rand, depth + 1));
  const object: Record<string, unknown> = {};
  for (let n = int(rand, 5); n > 0; n--) object[randomString(rand)] = randomValue(rand, depth + 1);
  return object;
}

function randomSpace(rand: Random): string {
  return rand() < 0.5 ? "" : pick(rand, [" ", "\n", "\n  ", "\t", "\r\n", "  \n    "]);
}

/** Writes JSON with random whitespace, number spellings and string escapes. */
function writeJson(value: unknown, rand: Random): string {
  if (typeof value === "string") return writeString(value, rand);
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => randomSpace(rand) + writeJson(v, rand) + randomSpace(rand));
    return `[${items.join(",")}${items.length === 0 ? randomSpace(rand) : ""}]`;
  }
  const record = value as Record<string, unknown>;
  if (typeof record.$number === "string") return record.$number;
  const members = Object.entries(record).map(
    ([k, v]) =>
      `${randomSpace(rand)}${writeString(k, rand)}${randomSpace(rand)}:${randomSpace(rand)}${writeJson(v, rand)}`,
  );
  return `{${members.join(",")}${randomSpace(rand)}}`;
}

function writeString(s: string, rand: Random): string {
  let out = '"';
  // By code point, so that an escaped emoji becomes two \u escapes, never half raw.
  for (const char of s) {
    if (char === '"' || char === "\\") out += `\\${char}`;
    else if (char < " " || rand() < 0.1) out += escapeUnits(char);
    else if (char === "/" && rand() < 0.5) out += "\\/";
    else out += char;
  }
  return `${out}"`;
}

function escapeUnits(char: string): string {
  let out = "";
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
}

function randomExport(rand: Random): string {
  const elements: string[] = [];
  for (let n = int(rand, 12); n > 0; n--) {
    const element =
      rand() < 0.7
        ? { model: `sentry.${randomString(rand)}`, pk: int(rand, 1e6), fields: randomValue(rand, 1) }
        : randomValue(rand, 0);
    elements.push(randomSpace(rand) + writeJson(element, rand) + randomSpace(rand));
  }
  return `${randomSpace(rand)}[${elements.join(",")}${elements.length === 0 ? randomSpace(rand) : ""}]${randomSpace(rand)}`;
}

function streamParserValues(bytes: Uint8Array, chunkSize: number): unknown[] {
  const values: unknown[] = [];
  const parser = new JSONParser({ paths: ["$.*"], keepStack: false });
  parser.onValue = ({ value }) => values.push(value);
  for (let i = 0; i < bytes.length; i += chunkSize) parser.write(bytes.subarray(i, i + chunkSize));
  // The parser ends itself after one top-level value.
  if (!parser.isEnded) parser.end();
  return values;
}

describe("generated documents", () => {
  it("read the same values as @streamparser/json and JSON.parse", async () => {
    const rand = prng(20240611);
    let entries = 0;
    for (let doc = 0; doc < 300; doc++) {
      const text = randomExport(rand);
      const bytes = Buffer.from(text, "utf8");
      const chunkSize = doc % 10 === 0 ? 1 : 1 + int(rand, 64);
      const outcome = await readInChunks(bytes, chunkSize);
      expect(outcome.error, text).toBeUndefined();
      const values = outcome.entries.map((e) => e.value);
      expect(values, text).toEqual(streamParserValues(bytes, 1 + int(rand, 64)));
      expect(values, text).toEqual(JSON.parse(text));
      expectTextsMatchSource(bytes, outcome.entries);
      entries += values.length;
    }
    expect(entries).toBeGreaterThan(1000);
  });

  it("when mutated, are accepted exactly when JSON.parse accepts an array, whatever the chunking", async () => {
    const rand = prng(7);
    let rejected = 0;
    let placed = 0;
    for (let doc = 0; doc < 300; doc++) {
      // Through UTF-8 and back, so that a surrogate pair cut in half reads the same for both.
      const text = Buffer.from(mutate(randomExport(rand), rand)).toString("utf8");
      const outcome = await read(text);
      const expected = parseWhole(text);
      if (Array.isArray(expected)) {
        expect(outcome.error, text).toBeUndefined();
        expect(outcome.entries.map((e) => e.value)).toEqual(expected);
      } else {
        rejected++;
        expect(outcome.error, text).toBeDefined();
        expect(outcome.error!.offset).toBeGreaterThanOrEqual(0);
        expect(outcome.error!.offset).toBeLessThanOrEqual(Buffer.byteLength(text));
        // Where V8 gives a position for the whole array, ours must point at the same byte.
        if (typeof expected === "number" && text.trimStart().startsWith("[")) {
          expect(outcome.error!.offset, JSON.stringify(text)).toBe(expected);
          placed++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(100);
    expect(placed).toBeGreaterThan(50);
  });
});

/** One random edit: delete, insert or duplicate a character, or cut the end off. */
function mutate(text: string, rand: Random): string {
  const at = int(rand, text.length + 1);
  switch (int(rand, 5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return (
        text.slice(0, at) +
        pick(rand, ["[", "]", "{", "}", ",", ":", '"', "\\", "x", "1", "-", "\u0001"]) +
        text.slice(at)
      );
    case 2:
      return text.slice(0, at) + text.charAt(at) + text.slice(at);
    case 3:
      return text.slice(0, at);
    default:
      return text;
  }
}

/** JSON.parse of the whole document: the value, V8's error position in bytes, or undefined. */
function parseWhole(text: string): unknown {
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) ? value : undefined;
  } catch (err) {
    const position = /at position (\d+)/.exec((err as Error).message);
    return position ? Buffer.byteLength(text.slice(0, Number(position[1]))) : undefined;
  }
}
