/**
 * Python's JSON output, checked against Python itself: float repr, ASCII escaping, the layout of
 * json.dumps(indent=N), and the lossless parse that keeps `100.0` a float.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseLossless, stringifyLossless } from "../src/backup/lossless.js";
import { dumpJson, orjsonFloat, PyNumber, pyFloat, reindentJson } from "../src/backup/pyjson.js";

function python(script: string, input: string): string {
  const r = spawnSync("python3", ["-c", script], { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

const HAS_ORJSON = spawnSync("python3", ["-c", "import orjson"]).status === 0;

/** Doubles across every magnitude, integral and not, both signs. */
function samples(): number[] {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out = [0, -0, 1, 100, 1e15, 1e16, 1e17, 1e-4, 1e-5, 0.1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e22, 5e-324];
  for (let e = -30; e <= 30; e++) {
    for (let k = 0; k < 30; k++) {
      const v = rand() * 10 ** e;
      out.push(v, -v, Math.round(v));
    }
  }
  return out;
}

describe("Python JSON", () => {
  it("pyFloat is Python's repr(float) for every sample", () => {
    const values = samples();
    const expected = python(
      "import json,sys\nfor v in json.load(sys.stdin): print(repr(float(v)))",
      `[${values.map((v) => (Object.is(v, -0) ? "-0.0" : JSON.stringify(v))).join(",")}]`,
    ).split("\n");
    values.forEach((v, i) => {
      expect(pyFloat(v), String(v)).toBe(expected[i]);
    });
  });

  it("orjsonFloat writes floats as orjson does (the encrypted export's payload)", () => {
    // From orjson 3.8 (orjson.dumps of each value).
    const table: [number, string][] = [
      [1e16, "1e16"],
      [1.5e-7, "1.5e-7"],
      [-1e20, "-1e20"],
      [100, "100.0"],
      [1e-4, "0.0001"],
      [1e-5, "0.00001"],
      [1.234e-5, "0.00001234"],
      [9.99e-6, "9.99e-6"],
      [1.2345678901234568e17, "1.2345678901234568e17"],
      [1e15, "1000000000000000.0"],
      [5e-324, "5e-324"],
      [-0, "-0.0"],
      [12345.678, "12345.678"],
      [Number.NaN, "null"],
    ];
    for (const [v, text] of table) expect(orjsonFloat(v), String(v)).toBe(text);
  });

  it.skipIf(!HAS_ORJSON)("orjsonFloat is what orjson.dumps writes for every sample", () => {
    const values = samples().filter((v) => !Number.isInteger(v) || Math.abs(v) < 2 ** 63);
    const expected = python(
      "import json,sys,orjson\nfor v in json.load(sys.stdin): print(orjson.dumps(float(v)).decode())",
      `[${values.map((v) => (Object.is(v, -0) ? "-0.0" : JSON.stringify(v))).join(",")}]`,
    ).split("\n");
    values.forEach((v, i) => {
      expect(orjsonFloat(v), String(v)).toBe(expected[i]);
    });
    expect(reindentJson("[1e16, 1.5e-07, 0.00001, 100.0, 7]", null, 0)).toBe("[1e16,1.5e-7,0.00001,100.0,7]");
  });

  it("dumpJson and reindentJson write what json.dumps(indent=2) writes", () => {
    const value = {
      text: 'caf\u00e9 \ud83d\ude00 \u007f / " \\ \n\t\u0001',
      float: new PyNumber("100.0"),
      big: new PyNumber("12345678901234567890"),
      small: 1.5e-7,
      list: [1, [], {}, [2, { a: null, b: true, c: false }]],
      empty: {},
    };
    const stored = stringifyLossless(value);
    const expected = python(
      "import json,sys\nprint(json.dumps(json.load(sys.stdin), indent=2), end='')",
      stored,
    );
    expect(dumpJson(parseLossless(stored), { indent: 2 })).toBe(expected);
    expect(reindentJson(stored, 2, 0)).toBe(expected);
    expect(reindentJson(JSON.stringify({ a: [1, 2] }, null, 4), 2, 0)).toBe(
      '{\n  "a": [\n    1,\n    2\n  ]\n}',
    );
  });

  it("the lossless parse keeps integral floats and big integers", () => {
    const v = parseLossless(
      '{"a": 100.0, "b": 100, "c": 1E5, "d": 123456789012345678901, "e": 0.5}',
    ) as Record<string, unknown>;
    expect(v.a).toEqual(new PyNumber("100.0"));
    expect(v.b).toBe(100);
    expect(v.c).toEqual(new PyNumber("100000.0"));
    expect(v.d).toEqual(new PyNumber("123456789012345678901"));
    expect(v.e).toBe(0.5);
  });
});
