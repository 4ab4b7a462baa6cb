// The encoded forms a server may echo a secret in (issue 18), and the check that no text
// an error shows holds a secret in any of them. Shared by echoes.test.mjs (Node) and
// workerd.test.mjs.
import assert from "node:assert/strict";
import { facesOf } from "../support/common.mjs";

/** Every character as a JSON `\uXXXX` escape (what a JSON encoder may write for any of them). */
export const jsonEscaped = (text) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
/** PHP's and .NET's escapes: `/` as `\/`, `+` as `\u002B`. */
export const phpEscaped = (text) => text.replaceAll("/", "\\/").replaceAll("+", "\\u002B");
/** Every byte percent-encoded. */
export const percentEncoded = (text) => [...Buffer.from(text)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");

/** A text and what it reads as JSON-unescaped and percent-decoded. */
function decodings(text) {
  const unescaped = text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\(.)/g, "$1");
  const decoded = (t) => t.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  return [text, unescaped, decoded(text), decoded(unescaped)];
}

/** Asserts no face of `err`, as written or decoded, shows any of `secrets`. */
export function assertNoSecret(err, secrets) {
  for (const [face, text] of facesOf(err)) {
    for (const form of decodings(text)) {
      for (const secret of secrets) assert.ok(!form.includes(secret), `${face} shows ${secret}:\n${text}`);
    }
  }
}

