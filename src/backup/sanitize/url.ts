/**
 * The parts of a URL that sanitize rebuilds, split the way Python's `urllib.parse.urlparse` splits
 * them (Sentry's URL mapper relies on its exact behaviour: the scheme is lower-cased, `;params`
 * only split for the usual schemes, the hostname lower-cased without user, password or port).
 */

export interface UrlParts {
  scheme: string;
  netloc: string;
  path: string;
  params: string;
  query: string;
  fragment: string;
  /** Lower-cased host without userinfo, port or IPv6 brackets; null when there is none. */
  hostname: string | null;
}

const SCHEME_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const USES_PARAMS = new Set([
  "",
  "ftp",
  "hdl",
  "prospero",
  "http",
  "imap",
  "https",
  "shttp",
  "rtsp",
  "rtspu",
  "sip",
  "sips",
  "mms",
  "sftp",
  "tel",
]);

/** Python's urlparse; null where Python raises (an unbalanced IPv6 bracket). */
export function urlparse(url: string): UrlParts | null {
  let rest = url;
  let scheme = "";
  const colon = rest.indexOf(":");
  if (colon > 0 && SCHEME_CHARS.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  let netloc = "";
  if (rest.startsWith("//")) {
    const end = firstOf(rest, "/?#", 2);
    netloc = rest.slice(2, end);
    rest = rest.slice(end);
    if (netloc.includes("[") !== netloc.includes("]")) return null;
  }
  let fragment = "";
  const hash = rest.indexOf("#");
  if (hash >= 0) [rest, fragment] = [rest.slice(0, hash), rest.slice(hash + 1)];
  let query = "";
  const question = rest.indexOf("?");
  if (question >= 0) [rest, query] = [rest.slice(0, question), rest.slice(question + 1)];
  let params = "";
  if (USES_PARAMS.has(scheme) && rest.includes(";")) {
    const semicolon = rest.indexOf(";", Math.max(0, rest.lastIndexOf("/")));
    if (semicolon >= 0) [rest, params] = [rest.slice(0, semicolon), rest.slice(semicolon + 1)];
  }
  return { scheme, netloc, path: rest, params, query, fragment, hostname: hostnameOf(netloc) };
}

/** Python's urlunparse of the parts (netloc taken as given). */
export function urlunparse(p: Omit<UrlParts, "hostname">): string {
  let url = p.params ? `${p.path};${p.params}` : p.path;
  if (p.netloc) {
    if (url && !url.startsWith("/")) url = `/${url}`;
    url = `//${p.netloc}${url}`;
  } else if (url.startsWith("//")) {
    url = `//${url}`;
  }
  if (p.scheme) url = `${p.scheme}:${url}`;
  if (p.query) url = `${url}?${p.query}`;
  if (p.fragment) url = `${url}#${p.fragment}`;
  return url;
}

function hostnameOf(netloc: string): string | null {
  const host = netloc.slice(netloc.lastIndexOf("@") + 1);
  let name: string;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    name = close >= 0 ? host.slice(1, close) : "";
  } else {
    const colon = host.indexOf(":");
    name = colon >= 0 ? host.slice(0, colon) : host;
  }
  return name === "" ? null : name.toLowerCase();
}

function firstOf(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i])) return i;
  return text.length;
}
