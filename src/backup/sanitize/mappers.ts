/**
 * Sentry's value mappers: each replaces one original value with a random one of the same kind,
 * and interns the result, so equal originals anywhere in the export get equal replacements and
 * relationships survive (a user's address in `sentry.user`, `sentry.email` and
 * `sentry.useremail`; a relay's id in `sentry.relay` and `sentry.relayusage`).
 *
 * Unlike Sentry, relo also keeps replacements distinct: a new value is redrawn while it equals
 * the original or a replacement already given to another original, so unique fields stay unique
 * (two users' addresses never collapse into one), and strings distinct ignoring letter case too,
 * as addresses and usernames are compared (see `Interner`). It also keeps one table per kind of value
 * (strings, names, IPs, UUIDs), so a name never becomes a random string or the other way round,
 * and every replacement keeps its field's length limit.
 */
import { isIP } from "node:net";
import type { Random } from "./random.js";
import { urlparse, urlunparse } from "./url.js";
import { ADJECTIVES, ANIMALS } from "./words.js";

/** How many draws must differ from the original before it may keep its value (tiny spaces). */
const ATTEMPTS = 100;
/** Random draws of a string before its replacement ends in a counter instead (a full space). */
const DRAWS = 2 * ATTEMPTS;

/**
 * Original → replacement, plus every replacement handed out. A new replacement is redrawn until
 * no other original has it, so distinct originals never share one: `make(attempt)` must widen
 * its range with `attempt` where the range may run out.
 *
 * A caseless interner (strings) also compares ignoring letter case, as Sentry and relo's import
 * compare addresses and usernames: distinct originals get replacements that differ ignoring
 * case, and an original that differs from an earlier one only in case gets that one's
 * replacement in its own case (`Alice` → `Qbhzc` after `alice` → `qbhzc`).
 */
class Interner {
  private readonly table = new Map<string, string>();
  /** Every replacement handed out, lower-cased when caseless. */
  private readonly used = new Set<string>();
  /** Lower-cased original → the replacement of the first original with that spelling (caseless). */
  private readonly firsts = new Map<string, string>();
  /** Replacements made by recasing a first one (they share its `used` entry). */
  private readonly recast = new Set<string>();

  constructor(private readonly caseless = false) {}

  /** The replacement of `old`, made by `make(attempt)` the first time. */
  get(old: string, make: (attempt: number) => string): string {
    if (old === "") return "";
    const known = this.table.get(old);
    if (known !== undefined) return known;
    const replacement = this.sibling(old) ?? this.draw(old, make);
    this.table.set(old, replacement);
    return replacement;
  }

  private fold(text: string): string {
    return this.caseless ? text.toLowerCase() : text;
  }

  /**
   * For an original equal ignoring case to an earlier one, that one's replacement in this one's
   * case; null when there is none, or when recasing cannot tell the two apart (the letters that
   * differ in case fall on digits or symbols).
   */
  private sibling(old: string): string | null {
    if (!this.caseless) return null;
    const first = this.firsts.get(old.toLowerCase());
    if (first === undefined) return null;
    const candidate = withCaseOf(first, old);
    if (candidate === first || this.recast.has(candidate)) return null;
    this.recast.add(candidate);
    return candidate;
  }

  /**
   * A fresh replacement: redrawn while another original has it or, for the first ATTEMPTS draws,
   * while it is the original (in a tiny space that may be the only value left).
   */
  private draw(old: string, make: (attempt: number) => string): string {
    const folded = this.fold(old);
    let candidate = make(0);
    for (let attempt = 1; ; attempt++) {
      const key = this.fold(candidate);
      if (!this.used.has(key) && (key !== folded || attempt > ATTEMPTS)) break;
      candidate = make(attempt);
    }
    this.used.add(this.fold(candidate));
    if (this.caseless && !this.firsts.has(folded)) this.firsts.set(folded, candidate);
    return candidate;
  }
}

/** `text` with the letter case of `model`, character by character (caseless ones as in `text`). */
export function withCaseOf(text: string, model: string): string {
  const shape = [...model];
  return [...text]
    .map((c, i) => {
      const m = shape[i] ?? "";
      if (m !== m.toLowerCase()) return c.toUpperCase();
      if (m !== m.toUpperCase()) return c.toLowerCase();
      return c;
    })
    .join("");
}

/** `base` with its end replaced by the counter `n` (base 36), longer only when it must be. */
function numbered(base: string, n: number): string {
  const tag = n.toString(36);
  return base.slice(0, Math.max(0, base.length - tag.length)) + tag;
}

const UPPER_HEX = "ABCDEF";
const UPPER_OTHER = "HIJKLMNOPQRSTUVWXYZ";
const LOWER_HEX = "abcdef";
const LOWER_OTHER = "hijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const DIGIT = /\p{Nd}/u;

/**
 * Sentry's default string generator: as many characters as the original has (code points), drawn
 * from the classes it uses: upper/lower case hex letters, other upper/lower letters, digits, and
 * each other ASCII character itself (`G` and `g` count as such, as in Sentry). Non-ASCII
 * characters add nothing; an original made only of them (where Sentry fails) draws lower case
 * letters.
 */
export function randomLike(old: string, random: Random): string {
  const classes = new Set<string>();
  const others = new Set<string>();
  const chars = [...old];
  for (const c of chars) {
    if (UPPER_HEX.includes(c)) classes.add(UPPER_HEX);
    else if (UPPER_OTHER.includes(c)) classes.add(UPPER_OTHER);
    else if (LOWER_HEX.includes(c)) classes.add(LOWER_HEX);
    else if (LOWER_OTHER.includes(c)) classes.add(LOWER_OTHER);
    else if (DIGIT.test(c)) classes.add(DIGITS);
    else if (c.charCodeAt(0) < 0x80) others.add(c);
  }
  let pool = [...others].join("") + [...classes].join("");
  if (pool === "") pool = LOWER_HEX + LOWER_OTHER + "g";
  let out = "";
  for (let i = 0; i < chars.length; i++) out += pool[random.below(pool.length)];
  return out;
}

/** Django's slugify: ASCII only, lower case, word characters and single hyphens. */
export function slugify(value: string): string {
  return value
    .normalize("NFKD")
    .replace(/[^\p{ASCII}]/gu, "")
    .toLowerCase()
    .replace(/[^\w\s-]/g, "")
    .replace(/[-\s]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
}

/** An address in free text: no spaces, brackets, quotes, separators or `/` on either side. */
const ADDRESS = /[^\s@<>()[\]{},;:"'`\\/]+@[^\s@<>()[\]{},;:"'`\\/]+/g;

const HEX32 = /^[0-9a-fA-F]{32}$/;
const UUID_TEXT =
  /^(?:urn:uuid:)?\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$/;

/** Whether Python's `uuid.UUID(text)` accepts `text`. */
export function isUuid(text: string): boolean {
  return UUID_TEXT.test(text.trim());
}

export class Mappers {
  private readonly strings = new Interner(true);
  private readonly names = new Interner();
  private readonly ips = new Interner();
  private readonly uuids = new Interner();
  /** `model` NUL `new slug` → the original slug that claimed it. */
  private readonly slugClaims = new Map<string, string>();

  constructor(private readonly random: Random) {}

  /**
   * A random string shaped like `old` (see `randomLike`), or `generate`'s value for it. When
   * DRAWS draws found only values other originals have (a space too small for all of them), the
   * last draw's end becomes a counter, so the replacement still differs from all others.
   */
  string(old: string, generate?: () => string): string {
    const draw = generate ?? (() => randomLike(old, this.random));
    let last = "";
    return this.strings.get(old, (attempt) => {
      if (attempt >= DRAWS) return numbered(last, attempt - DRAWS + 1);
      last = draw();
      return last;
    });
  }

  /** An address whose local part and domain are mapped separately, so domains stay shared. */
  email(old: string): string {
    const at = old.indexOf("@");
    if (at <= 0 || at !== old.lastIndexOf("@") || at === old.length - 1) return this.string(old);
    return `${this.string(old.slice(0, at))}@${this.string(old.slice(at + 1))}`;
  }

  /**
   * `text` with every address in it (`alice@corp.com`, without the brackets, quotes or final
   * dot around it) mapped by `email`, so it matches the same address elsewhere in the export.
   */
  addresses(text: string): string {
    return text.replace(ADDRESS, (found) => {
      const address = found.replace(/\.+$/, "");
      if (address.endsWith("@")) return found;
      return this.email(address) + found.slice(address.length);
    });
  }

  /** A random IPv4 for an IPv4, a random IPv6 for an IPv6, else a random string. */
  ip(old: string): string {
    const version = isIP(old);
    if (version === 0) return this.string(old);
    return this.ips.get(old, () => (version === 4 ? this.ipv4() : this.ipv6()));
  }

  /**
   * A URL whose scheme, host labels, path and query pieces (split on `.`) and fragment are mapped
   * as strings; user, password and port are dropped, `;params` kept. Without a host, a string.
   * Never longer than the original.
   */
  url(old: string): string {
    const u = urlparse(old);
    if (!u?.hostname) return this.string(old);
    const pieces = (text: string) => (text ? this.pieces(text) : "");
    // The leading `/` is kept: Sentry randomizes it, and urlunparse then adds one back, making
    // the URL a character longer than its column may hold.
    const path = u.path.startsWith("/") ? `/${pieces(u.path.slice(1))}` : pieces(u.path);
    return urlunparse({
      scheme: u.scheme ? this.string(u.scheme) : "",
      netloc: pieces(u.hostname),
      path,
      params: u.params,
      query: pieces(u.query),
      fragment: u.fragment ? this.string(u.fragment) : "",
    });
  }

  /** Each `.`-separated piece of `text` mapped as a string. */
  private pieces(text: string): string {
    return text
      .split(".")
      .map((p) => this.string(p))
      .join(".");
  }

  /**
   * A fresh random UUID (version 4) in the original's form: 32 hex digits for 32 hex digits,
   * else lower-case and hyphenated (Sentry always writes the hyphenated form, which does not fit
   * a 32-character column). Null when `old` is not a UUID.
   */
  uuid(old: string): string | null {
    if (!isUuid(old)) return null;
    const bare = HEX32.test(old.trim());
    return this.uuids.get(old, () => {
      const id = this.uuid4();
      return bare ? id.replaceAll("-", "") : id;
    });
  }

  /**
   * A two-word "Adjective Animal" name whose words are at most as long as `old` (shorter
   * originals get the shortest words, where Sentry never finishes). After many repeats the words
   * may grow longer, and in the end a number is added, so every original gets its own name.
   */
  name(old: string): string {
    const letters = Math.max([...old].length, 3);
    return this.names.get(old, (attempt) => {
      const name = this.petname(letters + Math.floor(attempt / 20));
      return attempt >= 400 ? `${name} ${attempt - 399}` : name;
    });
  }

  /**
   * The slug of a renamed row: the new name slugified. A slug another original slug of `model`
   * already got is made distinct with `-2`, `-3`, ... (rows whose names were equal but whose
   * slugs were not keep distinct slugs).
   */
  slug(model: string, oldSlug: string, newName: string): string {
    // As Sentry's slug fields store it: lower case, `_` as `-`, no outer `-`.
    const slug = (s: string) =>
      slugify(s)
        .replaceAll("_", "-")
        .replace(/^-+|-+$/g, "");
    const base = slug(newName) || slug(this.string(oldSlug)) || "sanitized";
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      const key = `${model}\0${candidate}`;
      const owner = this.slugClaims.get(key);
      if (owner === undefined) this.slugClaims.set(key, oldSlug);
      if (owner === undefined || owner === oldSlug) return candidate;
    }
  }

  /** 32 random bytes as 64 hex digits (Sentry's `generate_token`). */
  hexToken(): string {
    return this.random.bytes(32).toString("hex");
  }

  private petname(letters: number): string {
    const title = (w: string) => w[0].toUpperCase() + w.slice(1);
    const adjective = this.random.pick(wordsUpTo(ADJECTIVES, letters));
    return `${title(adjective)} ${title(this.random.pick(wordsUpTo(ANIMALS, letters)))}`;
  }

  private ipv4(): string {
    return [...this.random.bytes(4)].join(".");
  }

  /** Python's `str(IPv6Address)`: lower-case hextets, the longest run of zeros as `::`. */
  private ipv6(): string {
    const b = this.random.bytes(16);
    const hextets = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
    return compressIpv6(hextets);
  }

  private uuid4(): string {
    const b = this.random.bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

const byLength = new Map<readonly string[], string[][]>();

/** The words of `list` with at most `letters` letters (at least 3), computed once per length. */
function wordsUpTo(list: readonly string[], letters: number): string[] {
  let table = byLength.get(list);
  if (!table) {
    table = [];
    byLength.set(list, table);
  }
  const n = Math.min(letters, 20);
  table[n] ??= list.filter((w) => w.length <= n);
  return table[n];
}

/** RFC 5952 text of eight hextets (Python's rule: the first longest run of 2+ zero hextets). */
export function compressIpv6(hextets: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === "0") j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  if (bestLength < 2) return hextets.join(":");
  const head = hextets.slice(0, bestStart).join(":");
  const tail = hextets.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}
