/**
 * A deterministic synthetic organization-scope export: many organizations, each with users,
 * members, teams, projects, DSN keys and options, written in Sentry's format and model order.
 * It feeds the example in examples/ and the import benchmark. Rows are computed from their
 * indices, so any size streams in constant memory.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { prng } from "./prng.js";

export interface SyntheticShape {
  orgs: number;
  usersPerOrg: number;
  teamsPerOrg: number;
  projectsPerOrg: number;
  keysPerProject: number;
  seed?: number;
}

type Entry = { model: string; pk: number; fields: Record<string, unknown> };

function hex(rand: () => number, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += Math.floor(rand() * 16).toString(16);
  return out;
}

function date(i: number): string {
  return new Date(Date.UTC(2023, 5, 1) + i * 61_000).toISOString();
}

/** The export's entries, model by model in dependency order. */
export function* syntheticEntries(shape: SyntheticShape): Generator<Entry> {
  const rand = prng(shape.seed ?? 1);
  const { orgs, usersPerOrg: U, teamsPerOrg: T, projectsPerOrg: P, keysPerProject: K } = shape;
  const userPk = (o: number, u: number) => o * U + u + 1;
  const teamPk = (o: number, t: number) => o * T + t + 1;
  const projectPk = (o: number, p: number) => o * P + p + 1;
  const username = (o: number, u: number) => `user${u}@org${o}.example.com`;

  for (let o = 0; o < orgs; o++) {
    for (let u = 0; u < U; u++) {
      yield {
        model: "sentry.email",
        pk: userPk(o, u),
        fields: { email: username(o, u), date_added: date(u) },
      };
    }
  }
  for (let o = 0; o < orgs; o++) {
    for (let u = 0; u < U; u++) {
      yield {
        model: "sentry.user",
        pk: userPk(o, u),
        fields: {
          password: `pbkdf2_sha256$150000$${hex(rand, 12)}$${hex(rand, 43)}=`,
          last_login: null,
          username: username(o, u),
          name: `User ${u} of Org ${o}`,
          email: username(o, u),
          is_staff: false,
          is_active: true,
          is_unclaimed: false,
          is_superuser: false,
          is_managed: false,
          is_sentry_app: null,
          is_password_expired: false,
          last_password_change: date(u),
          flags: "0",
          session_nonce: null,
          date_joined: date(u),
          last_active: date(u + 1),
          avatar_type: 0,
          avatar_url: null,
        },
      };
    }
  }
  for (let o = 0; o < orgs; o++) {
    for (let u = 0; u < U; u++) {
      yield {
        model: "sentry.useremail",
        pk: userPk(o, u),
        fields: {
          user: userPk(o, u),
          email: username(o, u),
          validation_hash: hex(rand, 32),
          date_hash_added: date(u),
          is_verified: true,
        },
      };
    }
  }
  for (let o = 0; o < orgs; o++) {
    yield {
      model: "sentry.organization",
      pk: o + 1,
      fields: {
        name: `Org ${o}`,
        slug: `org-${o}`,
        status: 0,
        date_added: date(o),
        default_role: "member",
        is_test: false,
        flags: "1",
      },
    };
  }
  for (let o = 0; o < orgs; o++) {
    yield {
      model: "sentry.organizationoption",
      pk: o + 1,
      fields: { organization: o + 1, key: "sentry:account-rate-limit", value: 0 },
    };
  }
  for (let o = 0; o < orgs; o++) {
    for (let u = 0; u < U; u++) {
      yield {
        model: "sentry.organizationmember",
        pk: userPk(o, u),
        fields: {
          organization: o + 1,
          user_id: userPk(o, u),
          email: null,
          role: u === 0 ? "owner" : "member",
          flags: "0",
          token: null,
          date_added: date(u),
          token_expires_at: null,
          has_global_access: true,
          inviter_id: u === 0 ? null : userPk(o, 0),
          invite_status: 0,
          type: 50,
          user_is_active: true,
          user_email: username(o, u),
        },
      };
    }
  }
  for (let o = 0; o < orgs; o++) {
    for (let t = 0; t < T; t++) {
      yield {
        model: "sentry.team",
        pk: teamPk(o, t),
        fields: {
          organization: o + 1,
          slug: `team-${t}`,
          name: `Team ${t}`,
          status: 0,
          idp_provisioned: false,
          date_added: date(t),
        },
      };
    }
  }
  let omt = 0;
  for (let o = 0; o < orgs; o++) {
    for (let u = 0; u < U; u++) {
      yield {
        model: "sentry.organizationmemberteam",
        pk: ++omt,
        fields: { team: teamPk(o, u % T), organizationmember: userPk(o, u), is_active: true, role: null },
      };
    }
  }
  for (let o = 0; o < orgs; o++) {
    for (let p = 0; p < P; p++) {
      yield {
        model: "sentry.project",
        pk: projectPk(o, p),
        fields: {
          slug: `project-${p}`,
          name: `Project ${p}`,
          forced_color: null,
          organization: o + 1,
          public: false,
          date_added: date(p),
          status: 0,
          first_event: null,
          template: null,
          flags: "10",
          platform: "javascript",
        },
      };
    }
  }
  let pt = 0;
  for (let o = 0; o < orgs; o++) {
    for (let p = 0; p < P; p++) {
      yield {
        model: "sentry.projectteam",
        pk: ++pt,
        fields: { project: projectPk(o, p), team: teamPk(o, p % T) },
      };
    }
  }
  let pk = 0;
  for (let o = 0; o < orgs; o++) {
    for (let p = 0; p < P; p++) {
      for (let k = 0; k < K; k++) {
        yield {
          model: "sentry.projectkey",
          pk: ++pk,
          fields: {
            project: projectPk(o, p),
            label: k === 0 ? "Default" : `Key ${k}`,
            public_key: hex(rand, 32),
            secret_key: hex(rand, 32),
            roles: "1",
            status: 0,
            date_added: date(k),
            rate_limit_count: null,
            rate_limit_window: null,
            data: { dynamicSdkLoaderOptions: { hasPerformance: true, hasReplay: true } },
            use_case: "user",
          },
        };
      }
    }
  }
  let po = 0;
  for (let o = 0; o < orgs; o++) {
    for (let p = 0; p < P; p++) {
      yield {
        model: "sentry.projectoption",
        pk: ++po,
        fields: { project: projectPk(o, p), key: "sentry:option-epoch", value: 11 },
      };
    }
  }
}

/** Writes the export to `path`, Django-style (`[\n{...},\n{...}\n]`); returns the entry count. */
export async function writeSynthetic(path: string, shape: SyntheticShape): Promise<number> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let n = 0;
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, "drain");
  };
  await write("[");
  for (const entry of syntheticEntries(shape)) {
    await write(`${n === 0 ? "\n" : ",\n"}${JSON.stringify(entry, null, 2)}`);
    n++;
  }
  await write("\n]\n");
  out.end();
  await once(out, "finish");
  return n;
}
