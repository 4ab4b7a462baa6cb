// The stored form, written a second time from its documentation with node:crypto
// (pkg-template/README.md "What a store holds"), so the tests check the library's
// HKDF and AES-GCM layout against an implementation of their own: the store key of a
// set of credentials, and stored values sealed or opened as an instance with them would.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const SALT = "cedato-auth token store v2";
const hkdf = (clientId, clientSecret, purpose) =>
  Buffer.from(hkdfSync("sha256", Buffer.from(clientSecret), SALT, Buffer.concat([Buffer.from(purpose), Buffer.from([0]), Buffer.from(clientId)]), 32));

/** `baseUrl` as CedatoAuth normalizes it: with a trailing "/". */
const normalized = (baseUrl) => (baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);

/** The store key of `{ clientId, clientSecret }` at `baseUrl`. */
export function storeKeyOf({ clientId, clientSecret }, baseUrl) {
  const fingerprint = hkdf(clientId, clientSecret, "store key fingerprint").toString("base64url");
  return `cedato-auth:v2:${normalized(baseUrl)}:${clientId}:${fingerprint}`;
}

/** Associated data: both times as big-endian doubles, then the key. */
function associated(key, expiresAt, refreshAt) {
  const times = Buffer.alloc(16);
  times.writeDoubleBE(expiresAt, 0);
  times.writeDoubleBE(refreshAt, 8);
  return Buffer.concat([times, Buffer.from(key)]);
}

/** The stored value an instance with `creds` at `baseUrl` writes for `token`. */
export function seal(creds, baseUrl, { accessToken, expiresIn = 3600, expiresAt, refreshAt }) {
  const key = storeKeyOf(creds, baseUrl);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", hkdf(creds.clientId, creds.clientSecret, "store value seal"), iv);
  cipher.setAAD(associated(key, expiresAt, refreshAt));
  const lifetime = Buffer.alloc(8);
  lifetime.writeDoubleBE(expiresIn);
  const ciphertext = Buffer.concat([cipher.update(Buffer.concat([lifetime, Buffer.from(accessToken)])), cipher.final()]);
  const sealed = Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString("base64url");
  return { sealed, expiresAt, refreshAt };
}

/** `{ accessToken, expiresIn }` of a stored value, opened with `creds`; throws when it does not open. */
export function open(creds, baseUrl, { sealed, expiresAt, refreshAt }) {
  const bytes = Buffer.from(sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", hkdf(creds.clientId, creds.clientSecret, "store value seal"), bytes.subarray(0, 12));
  decipher.setAAD(associated(storeKeyOf(creds, baseUrl), expiresAt, refreshAt));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  return { expiresIn: plain.readDoubleBE(0), accessToken: plain.subarray(8).toString() };
}
