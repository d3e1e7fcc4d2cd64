/**
 * `relo serve` as a library call: opens the database (a writer connection and a reader for key
 * lookups), the optional Redis stream, the writer loop and the HTTP server.
 */
import type { Logger } from "pino";
import { ReloError } from "../backup/errors.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/types.js";
import { Ingest, type IngestOptions } from "./ingest.js";
import { parseRedisStreamUrl, RedisPublisher } from "./redis.js";
import { buildApp, type Limits } from "./server.js";
import { Sql } from "./sql.js";

/** Why a server cannot listen that the user can fix (a port in use, a privileged port, a wrong host). */
const LISTEN_ERRORS = new Set(["EADDRINUSE", "EACCES", "EADDRNOTAVAIL", "ENOTFOUND"]);

export interface ServeOptions {
  /** Database URL (see openStore). */
  db: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A `redis://` URL to publish the event stream to; the embedded table otherwise. */
  eventstream?: string;
  limits?: Partial<Limits>;
  ingest?: Omit<IngestOptions, "publisher" | "onError">;
  log?: Logger | null;
}

export interface RunningServer {
  /** The base URL SDK DSNs point at, e.g. `http://127.0.0.1:9000`. */
  url: string;
  port: number;
  ingest: Ingest;
  store: Store;
  /** Stops accepting requests, saves what is queued, relays the stream, closes everything. */
  close(): Promise<void>;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const publisher = o.eventstream ? await RedisPublisher.open(parseRedisStreamUrl(o.eventstream)) : null;
  const store = await openStore(o.db).catch(async (err) => {
    await publisher?.close();
    throw err;
  });
  const reader = await openStore(o.db, { migrate: false });
  const log = o.log ?? null;
  const ingest = new Ingest(store, {
    ...o.ingest,
    publisher,
    onError: (err, what) => log?.error({ err }, `${what} failed`),
  });
  const app = buildApp({ ingest, reader: new Sql(reader, true), limits: o.limits, log });
  const closeAll = async () => {
    await ingest.close();
    await reader.close();
    await store.close();
  };
  let address: string;
  const host = o.host ?? "127.0.0.1";
  const port = o.port ?? 9000;
  try {
    address = await app.listen({ host, port });
  } catch (err) {
    await closeAll();
    const code = (err as NodeJS.ErrnoException).code;
    if (code && LISTEN_ERRORS.has(code))
      throw new ReloError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
    throw err;
  }
  return {
    url: address,
    port: Number(new URL(address).port),
    ingest,
    store,
    async close() {
      await app.close();
      await closeAll();
    },
  };
}
