// One stored form for every language: the shipped stores' rule (stores/stored-token.mjs)
// fed the fixtures that src/core/store.rs's native test feeds the library's reader. Each
// says whether a store hands the value out at `now` (`current`, checked on both sides)
// and what the library makes of it (`library`, checked on the Rust side; here only
// whether it is a shared failure).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CedatoAuth } from "../../pkg/node.mjs";
import { currentValue, refreshPointOf, sharedFailure, storeKeyPrefix, timesOf } from "../../pkg/stores/stored-token.mjs";
import { storeKeyOf } from "../support/sealed.mjs";

const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));
const fixtures = fixture("stored-values.json");

test("stored values: the stores' rule agrees with the library's on every fixture", () => {
  assert.ok(fixtures.length >= 10);
  for (const f of fixtures) {
    assert.equal(currentValue(f.value, f.now) !== null, f.current, f.name);
    if (f.current) assert.equal(currentValue(f.value, f.now), f.value, `${f.name}: handed out as it is`);
    assert.equal(sharedFailure(f.value) !== null, f.library === "failure", f.name);
  }
});

test("stored values: only own properties count, whatever Object.prototype holds", () => {
  const polluted = { expiresAt: 9e15, refreshAt: 9e15, failure: "token_rejected", sealed: "x" };
  for (const [name, value] of Object.entries(polluted)) Object.prototype[name] = value;
  try {
    assert.equal(timesOf({}), null);
    assert.equal(currentValue({ sealed: "x" }, 1000), null);
    assert.equal(sharedFailure({ sealed: "x", expiresAt: 5000, refreshAt: 4000 }), null);
    assert.throws(() => refreshPointOf("testStore", { sealed: "x" }), TypeError);
    const own = { sealed: "x", expiresAt: 5000, refreshAt: 4000 };
    assert.equal(currentValue(own, 1000), own);
    assert.equal(refreshPointOf("testStore", own), 4000);
  } finally {
    for (const name of Object.keys(polluted)) delete Object.prototype[name];
  }
});

test("stored values: a store keeps a value until its refresh point, never past expiry", () => {
  assert.equal(refreshPointOf("testStore", { sealed: "x", expiresAt: 5000, refreshAt: 4000 }), 4000);
  assert.equal(refreshPointOf("testStore", { sealed: "x", expiresAt: 5000, refreshAt: 6000 }), 5000);
  for (const bad of [null, "text", [], {}, { expiresAt: 5000 }, { accessToken: "plain", expiresAt: 5000 }]) {
    assert.throws(() => refreshPointOf("testStore", bad), /testStore: set\(\) takes the value CedatoAuth hands over/);
  }
});

// The store key, fed the fixtures src/core/seal.rs's native test checks the layout of: the
// key the wasm hands its store, the prefix the Durable Object broker checks keys with
// (stores/stored-token.mjs), and the key derived again with node:crypto all agree.
test("store keys: the library, the broker's prefix rule and node:crypto agree on every fixture", async () => {
  const keys = fixture("store-keys.json");
  assert.ok(keys.length >= 4);
  for (const f of keys) {
    const asked = [];
    const tokenStore = {
      get: async (key) => (asked.push(key), { failure: "server_error", message: "not asked further" }),
      set: async () => {},
    };
    const auth = new CedatoAuth({ clientId: f.clientId, clientSecret: f.clientSecret, baseUrl: f.baseUrl, tokenStore });
    await assert.rejects(auth.getToken(), { code: "server_error" });
    assert.deepEqual(asked, [f.key], f.name);
    const baseUrl = auth.toJSON().baseUrl;
    assert.ok(f.key.startsWith(storeKeyPrefix(baseUrl, f.clientId)), f.name);
    for (const other of keys.filter((o) => o.clientId !== f.clientId || o.baseUrl !== f.baseUrl)) {
      assert.ok(!other.key.startsWith(storeKeyPrefix(baseUrl, f.clientId)), `${f.name}: not ${other.name}`);
    }
    assert.equal(storeKeyOf(f, f.baseUrl), f.key, f.name);
    auth.free();
  }
});
