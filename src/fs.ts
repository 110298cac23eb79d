/**
 * The one file-system question the library asks outside the CLI.
 *
 * @module
 */

/**
 * Whether `path` exists (any other error than "not found" is thrown).
 *
 * @example
 * ```ts
 * import { pathExists } from "./fs.ts";
 * console.log(await pathExists("/nonexistent/file")); // false
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
