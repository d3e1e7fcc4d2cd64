/**
 * Sentry's unique-value generation, used for renamed usernames and organization slugs: keep the
 * requested value when it is free (case-insensitively) and not all digits, otherwise append a
 * random suffix, trying longer suffixes as shorter ones collide.
 */
import { randomBytes, randomUUID } from "node:crypto";

/** Sentry's suffix alphabet. It lacks `8` and has `0` twice; kept so suffixes look the same. */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456790";

/** Suffix lengths tried in order: 1 of 2 chars, 5 of 3, 20 of 5, 1 of 12. */
const SUFFIX_SCHEDULE: number[] = [2, ...Array(5).fill(3), ...Array(20).fill(5), 12];

export function randomSuffix(size: number): string {
  const bytes = randomBytes(size);
  let out = "";
  for (let i = 0; i < size; i++) out += ALPHABET[bytes[i] % ALPHABET.length];
  return out;
}

export interface UniqueOptions {
  maxLength: number;
  reserved?: ReadonlySet<string>;
  /** True when `candidate` is already taken (compared case-insensitively by the caller). */
  taken: (candidate: string) => boolean | Promise<boolean>;
}

/** Sentry's `unique_db_instance`: the value to store for `base`. */
export async function makeUnique(base: string, opts: UniqueOptions): Promise<string> {
  let value = base.trim();
  if (opts.reserved?.has(value)) value = "";
  if (value === "") value = randomUUID().replace(/-/g, "").slice(0, 12);
  if (!/^\d+$/.test(value) && !(await opts.taken(value))) return value;
  let candidate = value;
  for (const size of SUFFIX_SCHEDULE) {
    candidate = `${value.slice(0, Math.max(0, opts.maxLength - size - 1))}-${randomSuffix(size)}`;
    if (!(await opts.taken(candidate))) return candidate;
  }
  return candidate;
}

/**
 * Django's `slugify`: fold to ASCII, drop everything but word characters, spaces and hyphens,
 * lower-case, turn runs of spaces and hyphens into one hyphen, strip leading and trailing `-_`.
 */
export function slugify(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the class is "every non-ASCII character"
  const ascii = value.normalize("NFKD").replace(/[^\x00-\x7f]/g, "");
  const cleaned = ascii
    .replace(/[^\w\s-]/g, "")
    .trim()
    .toLowerCase();
  return cleaned.replace(/[-\s]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
}

/** Sentry's `slugify_instance`: slugify, cut to length, strip `-`, make unique. */
export function slugifyInstance(label: string, opts: UniqueOptions): Promise<string> {
  const slug = slugify(label)
    .slice(0, opts.maxLength)
    .replace(/^-+|-+$/g, "");
  return makeUnique(slug, opts);
}
