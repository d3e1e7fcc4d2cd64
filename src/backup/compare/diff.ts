/**
 * A unified diff of two line lists, in the shape Python's `difflib.unified_diff(a, b, n=15)`
 * prints it (`--- `, `+++ `, `@@ -a,b +c,d @@` headers, then ` `/`-`/`+` lines). The hunks come
 * from a longest-common-subsequence match, which may pair lines differently from difflib's
 * heuristic on some inputs; the lines added and removed are the same.
 */

type Op = [" " | "-" | "+", string];

function script(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = a.slice(0, start).map((l): Op => [" ", l]);
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  // LCS table over the differing middle only; fields objects are small.
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push([" ", x[i++]]);
      j++;
    } else if (i < x.length && (j >= y.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push(["-", x[i++]]);
    } else {
      ops.push(["+", y[j++]]);
    }
  }
  for (const l of a.slice(endA)) ops.push([" ", l]);
  return ops;
}

function range(start: number, length: number): string {
  if (length === 1) return `${start + 1}`;
  return length === 0 ? `${start},0` : `${start + 1},${length}`;
}

export function unifiedDiff(a: string[], b: string[], context = 15): string[] {
  const ops = script(a, b);
  const changed = ops.map((op, k) => (op[0] === " " ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return [];
  const out = ["--- \n", "+++ \n"];
  let k = 0;
  while (k < changed.length) {
    const from = Math.max(0, changed[k] - context);
    let to = Math.min(ops.length, changed[k] + context + 1);
    while (k + 1 < changed.length && changed[k + 1] - context <= to) {
      k++;
      to = Math.min(ops.length, changed[k] + context + 1);
    }
    k++;
    let aStart = 0;
    let bStart = 0;
    for (let n = 0; n < from; n++) {
      if (ops[n][0] !== "+") aStart++;
      if (ops[n][0] !== "-") bStart++;
    }
    const hunk = ops.slice(from, to);
    const aLen = hunk.filter((o) => o[0] !== "+").length;
    const bLen = hunk.filter((o) => o[0] !== "-").length;
    out.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@\n`);
    for (const [tag, line] of hunk) out.push(`${tag}${line}`);
  }
  return out;
}
