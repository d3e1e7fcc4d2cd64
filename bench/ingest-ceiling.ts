/**
 * The ceiling of the ingestion benchmark: the same fastify setup as `relo serve` (body limit,
 * catch-all byte parser, routes), answering every envelope with an empty 200 and doing nothing
 * else. `tsx bench/ingest-ceiling.ts --port PORT`
 */
import Fastify, { LogController } from "fastify";
import { DEFAULT_LIMITS } from "../src/events/server.js";

const app = Fastify({
  bodyLimit: DEFAULT_LIMITS.maxBodyBytes,
  routerOptions: { ignoreTrailingSlash: true },
  logController: new LogController({ disableRequestLogging: true }),
  logger: false,
});
app.removeAllContentTypeParsers();
app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
app.post("/api/:projectId/envelope/", async () => ({}));
await app.listen({ host: "127.0.0.1", port: Number(process.argv[process.argv.indexOf("--port") + 1]) });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => void app.close().then(() => process.exit(0)));
