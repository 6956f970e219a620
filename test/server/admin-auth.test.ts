import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { test } from "node:test";
import { defaultServer } from "../../src/config/defaults.ts";
import { GatewayError } from "../../src/protocol/errors.ts";
import { adminGuard, operatorGuard } from "../../src/server/admin-auth.ts";
import { authenticator } from "../../src/server/auth.ts";

const ADMIN = "admin-key-0123456789abcdef";
const GATEWAY = "gateway-key-0123456789abcdef";

function call(guard: (req: IncomingMessage, res: ServerResponse) => void, headers: Record<string, string>) {
  const set: Record<string, string> = {};
  const res = { setHeader: (k: string, v: string) => (set[k] = v) } as unknown as ServerResponse;
  try {
    guard({ headers } as IncomingMessage, res);
    return { ok: true as const, set };
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return { ok: false as const, code: err.code, message: err.message, set };
  }
}
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

test("the admin API is off without an admin key, whatever is presented", () => {
  const r = call(adminGuard(defaultServer()), { authorization: `Bearer ${ADMIN}` });
  assert.equal(r.ok, false);
  assert.equal(r.ok === false && r.code, "SY_ERR_FORBIDDEN");
  assert.match(r.ok === false ? r.message : "", /server\.admin_key/);
});

test("the admin key is accepted as Bearer, x-admin-key, or a Basic password; anything else is a 401 with a Basic challenge", () => {
  const guard = adminGuard({ ...defaultServer(), adminKey: ADMIN });
  assert.equal(call(guard, { authorization: `Bearer ${ADMIN}` }).ok, true);
  assert.equal(call(guard, { "x-admin-key": ADMIN }).ok, true);
  assert.equal(call(guard, { authorization: basic("anyone", ADMIN) }).ok, true);
  for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${ADMIN}x` }, { authorization: basic(ADMIN, "wrong") }, { "x-api-key": ADMIN }]) {
    const r = call(guard, headers);
    assert.equal(r.ok, false, JSON.stringify(headers));
    assert.equal(r.ok === false && r.code, "SY_ERR_UNAUTHORIZED");
    assert.match(r.set["www-authenticate"] ?? "", /^Basic realm=/);
    assert.ok(!(r.ok === false && r.message.includes(ADMIN)), "the key is never quoted");
  }
});

test("operator pages: admin key when set, else a gateway key (also as a Basic password), else open", () => {
  const withKeys = { ...defaultServer(), auth: { keys: [{ name: "k", key: GATEWAY }], allowUnauthenticated: false } };
  const open = operatorGuard(defaultServer(), undefined);
  assert.equal(open, undefined);

  const byGatewayKey = operatorGuard(withKeys, authenticator(withKeys.auth))!;
  assert.equal(call(byGatewayKey, { authorization: `Bearer ${GATEWAY}` }).ok, true);
  assert.equal(call(byGatewayKey, { "x-api-key": GATEWAY }).ok, true);
  assert.equal(call(byGatewayKey, { authorization: basic("", GATEWAY) }).ok, true);
  const refused = call(byGatewayKey, { authorization: basic("", "not-the-key-at-all") });
  assert.equal(refused.ok, false);
  assert.match(refused.set["www-authenticate"] ?? "", /^Basic/);

  const byAdminKey = operatorGuard({ ...withKeys, adminKey: ADMIN }, authenticator(withKeys.auth))!;
  assert.equal(call(byAdminKey, { authorization: `Bearer ${ADMIN}` }).ok, true);
  assert.equal(call(byAdminKey, { authorization: `Bearer ${GATEWAY}` }).ok, false, "a gateway key does not open the operator's pages once an admin key exists");
});
