/**
 * Opens the store a `--db` value or `RELO_DATABASE_URL` names: a file path or `sqlite:PATH`
 * (default `./relo.db`), or a `postgres://` / `postgresql://` URL, optionally with `?schema=NAME`.
 */
import { ReloError } from "../backup/errors.js";
import { registry } from "../models/registry.js";
import type { ModelDef } from "../models/types.js";
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import type { Store } from "./types.js";

export const DEFAULT_DATABASE = "./relo.db";

export function resolveDatabaseUrl(flag?: string): string {
  return flag ?? process.env.RELO_DATABASE_URL ?? DEFAULT_DATABASE;
}

export interface OpenOptions {
  /** Create missing tables (default true). */
  migrate?: boolean;
  models?: ModelDef[];
}

export async function openStore(url: string, opts: OpenOptions = {}): Promise<Store> {
  const models = opts.models ?? registry.ordered;
  const store = createStore(url, models);
  try {
    if (opts.migrate ?? true) await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw new ReloError(`cannot open database ${store.location}: ${(err as Error).message}`);
  }
  return store;
}

function createStore(url: string, models: ModelDef[]): Store {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const u = new URL(url);
    const schema = u.searchParams.get("schema") ?? undefined;
    u.searchParams.delete("schema");
    return new PostgresStore(u.toString(), models, { schema });
  }
  const path = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
  try {
    return new SqliteStore(path, models);
  } catch (err) {
    throw new ReloError(`cannot open database ${path}: ${(err as Error).message}`);
  }
}
