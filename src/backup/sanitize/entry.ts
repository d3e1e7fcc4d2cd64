/**
 * One export entry as sanitize handles it: the element's parsed value (for the rules to read)
 * plus where each top-level member and each field sits in the element's source text, so that
 * every value no rule replaces is written back from its own text: key order (JavaScript objects
 * move integer-like keys first), number forms and big integers all survive.
 */
import { InputError } from "../errors.js";
import { scalarEnd, stringEnd } from "./format.js";

/** A member of a JSON object: its key and the span of its value in the source text. */
export interface Member {
  key: string;
  start: number;
  end: number;
}

export interface Entry extends EntryHead {
  /** The element's source text. */
  text: string;
  /** Top-level members in source order (`model`, `pk`, `fields`, and any others). */
  members: Member[];
  /** The members of `fields`, in source order; a repeated key keeps its first position. */
  fieldSpans: Map<string, Member>;
}

/** What the first pass needs of an element: its model and parsed fields. */
export interface EntryHead {
  model: string;
  fields: Record<string, unknown>;
  pk: unknown;
}

/**
 * Checks that an array element is an export entry (an object with a string `model` and an object
 * `fields`); throws `InputError` naming the element and its byte offset otherwise.
 */
export function entryHead(value: unknown, index: number, offset: number): EntryHead {
  const v = isObject(value) ? value : null;
  if (typeof v?.model !== "string" || !isObject(v.fields)) {
    throw new InputError(
      `Invalid JSON: array element ${index} at byte ${offset} is not an export entry (an object with a string "model" and an object "fields")`,
      offset,
    );
  }
  return { model: v.model, fields: v.fields, pk: v.pk };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Splits one array element into an Entry (see `entryHead` for what it must be). */
export function readEntry(value: unknown, text: string, index: number, offset: number): Entry {
  const head = entryHead(value, index, offset);
  const members = [...dedupe(objectMembers(text, skipSpace(text, 0))).values()];
  const fieldsMember = members.find((m) => m.key === "fields") as Member;
  const fieldSpans = dedupe(objectMembers(text, fieldsMember.start));
  return { ...head, text, members, fieldSpans };
}

/** Members by key; a repeated key keeps its first position and its last value, as in Python. */
function dedupe(members: Member[]): Map<string, Member> {
  const out = new Map<string, Member>();
  for (const m of members) {
    const earlier = out.get(m.key);
    out.set(m.key, earlier ? { ...earlier, start: m.start, end: m.end } : m);
  }
  return out;
}

/** The members of the object whose `{` is at `start` (valid JSON). */
export function objectMembers(text: string, start: number): Member[] {
  const out: Member[] = [];
  let i = skipSpace(text, start + 1);
  if (text[i] === "}") return out;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    const literal = text.slice(i, keyEnd);
    const key = literal.includes("\\") ? (JSON.parse(literal) as string) : literal.slice(1, -1);
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the ':'
    const valueEnd = endOfValue(text, valueStart);
    out.push({ key, start: valueStart, end: valueEnd });
    i = skipSpace(text, valueEnd);
    if (text[i] === "}") return out;
    i = skipSpace(text, i + 1); // past the ','
  }
}

/** The index just past the JSON value that starts at `start`. */
export function endOfValue(text: string, start: number): number {
  const c = text[start];
  if (c === '"') return stringEnd(text, start);
  if (c !== "{" && c !== "[") return scalarEnd(text, start);
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const d = text[i];
    if (d === '"') {
      i = stringEnd(text, i);
      continue;
    }
    if (d === "{" || d === "[") depth++;
    else if ((d === "}" || d === "]") && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && " \n\r\t".includes(text[i])) i++;
  return i;
}
