/**
 * The load process of the ingestion benchmark (bench/ingest.ts): sends SDK-shaped envelopes to
 * `URL` over keep-alive connections, `CONCURRENCY` requests in flight, until `COUNT` events are
 * sent or `SECONDS` have passed, after `WARMUP` unmeasured ones. Bodies are built before the
 * clock starts so the load process spends its CPU on sending. Prints one JSON line.
 *
 *   tsx bench/ingest-load.ts URL PUBLIC_KEY PROJECT_ID COUNT SECONDS CONCURRENCY WARMUP
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { serializeEnvelope } from "../src/events/envelope.js";

const [url, publicKey, projectId, count, seconds, concurrency, warmup] = process.argv.slice(2);
const total = Number(count);
const limitMs = Number(seconds) * 1000;
const inFlight = Number(concurrency);
const warm = Number(warmup);

const TYPES = ["TypeError", "RangeError", "ReferenceError", "SyntaxError", "ValidationError"];
const MODULES = [
  "cart",
  "checkout",
  "catalog",
  "search",
  "account",
  "orders",
  "payments",
  "shipping",
  "reviews",
  "auth",
];

/** An error as @sentry/node 11 sends it: 50 distinct issues, 1000 users, two environments. */
function body(i: number): Buffer {
  const id = randomBytes(16).toString("hex");
  const mod = MODULES[i % MODULES.length];
  const event = {
    event_id: id,
    level: "error",
    platform: "node",
    timestamp: Date.now() / 1000,
    environment: i % 4 === 0 ? "staging" : "production",
    release: "shop@4.2.0",
    server_name: "web-1",
    user: { id: `user-${i % 1000}`, ip_address: "10.0.0.1" },
    tags: { region: i % 2 ? "eu" : "us" },
    contexts: {
      runtime: { name: "node", version: "v20.20.2" },
      trace: { trace_id: randomBytes(16).toString("hex"), span_id: randomBytes(8).toString("hex") },
    },
    exception: {
      values: [
        {
          type: TYPES[i % TYPES.length],
          value: `${mod} failed: the request could not be completed`,
          mechanism: { type: "generic", handled: true },
          stacktrace: {
            frames: [
              {
                filename: "node:internal/process/task_queues",
                function: "processTicksAndRejections",
                in_app: false,
                lineno: 95,
              },
              {
                filename: "/srv/app/node_modules/fastify/lib/route.js",
                function: "runHandler",
                in_app: false,
                lineno: 612,
              },
              {
                filename: `/srv/app/src/${mod}/handler.js`,
                module: `${mod}.handler`,
                function: "handle",
                in_app: true,
                lineno: 40,
              },
              {
                filename: `/srv/app/src/${mod}/service.js`,
                module: `${mod}.service`,
                function: "apply",
                in_app: true,
                lineno: 118,
              },
            ],
          },
        },
      ],
    },
    sdk: {
      name: "sentry.javascript.node",
      version: "11.12.0",
      packages: [{ name: "npm:@sentry/node", version: "11.12.0" }],
    },
  };
  return serializeEnvelope(
    {
      event_id: id,
      sent_at: new Date().toISOString(),
      sdk: { name: "sentry.javascript.node", version: "11.12.0" },
    },
    [{ header: { type: "event" }, payload: event }],
  );
}

const bodies = Array.from({ length: total + warm }, (_, i) => body(i));
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
const target = new URL(`/api/${projectId}/envelope/?sentry_version=7&sentry_key=${publicKey}`, url);

function send(b: Buffer): Promise<number> {
  return new Promise((done) => {
    const req = http.request(
      target,
      { method: "POST", agent, headers: { "content-length": b.length } },
      (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0));
      },
    );
    req.on("error", () => done(-1));
    req.end(b);
  });
}

async function run(
  from: number,
  to: number,
  deadline: number,
  latencies: number[] | null,
  statuses: Map<number, number>,
) {
  let next = from;
  const worker = async () => {
    while (next < to && performance.now() < deadline) {
      const b = bodies[next++];
      const t0 = performance.now();
      const status = await send(b);
      latencies?.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

await run(0, warm, Number.POSITIVE_INFINITY, null, new Map());
const latencies: number[] = [];
const statuses = new Map<number, number>();
const start = performance.now();
await run(warm, warm + total, start + limitMs, latencies, statuses);
const elapsed = (performance.now() - start) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
console.log(
  JSON.stringify({
    sent: latencies.length,
    ok: statuses.get(200) ?? 0,
    statuses: Object.fromEntries(statuses),
    seconds: elapsed,
    eventsPerSec: (statuses.get(200) ?? 0) / elapsed,
    p50: pct(50),
    p99: pct(99),
  }),
);
