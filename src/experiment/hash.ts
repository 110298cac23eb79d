/**
 * Content names for cached work: the SHA-256 of a key, in hex.
 *
 * @module
 */

/**
 * The SHA-256 of `text` (UTF-8) as 64 hex digits.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hash.ts";
 * console.log((await sha256Hex("abc")).slice(0, 8)); // "ba7816bf"
 * ```
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
