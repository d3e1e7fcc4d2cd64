/**
 * An organization filter on an export from before 2023, whose members still name their user in
 * `user` (now `user_id`): the filter finds the members' users as the import reads them.
 */
import { expect, it } from "vitest";
import { orgSlugFilter } from "../src/backup/filters.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { importFile, rows, writeExport } from "./helpers/import.js";

const user = (pk: number, username: string) => ({
  model: "sentry.user",
  pk,
  fields: { username, email: `${username}@example.com`, password: "x", name: username },
});
const org = (pk: number, slug: string) => ({
  model: "sentry.organization",
  pk,
  fields: { name: slug, slug },
});
const oldMember = (pk: number, orgPk: number, userPk: number) => ({
  model: "sentry.organizationmember",
  pk,
  fields: { organization: orgPk, user: userPk, role: "member", email: null },
});

describeEachDb("organization filter on a pre-2023 export", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("imports the selected organization's members and their users", async () => {
    const path = writeExport([
      user(1, "alice"),
      user(2, "bob"),
      org(1, "one"),
      org(2, "two"),
      oldMember(1, 1, 1),
      oldMember(2, 2, 2),
    ]);
    await importFile(store, path, { scope: "Organization", filterBy: orgSlugFilter(["two"]) });
    expect((await rows(store, "auth_user")).map((u) => u.username)).toEqual(["bob"]);
    const members = await rows(store, "sentry_organizationmember");
    expect(members).toHaveLength(1);
    expect(members[0].user_id).toBe((await rows(store, "auth_user"))[0].id);
  });
});
