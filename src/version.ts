/**
 * The toolkit's version, from deno.json (a JSON import travels with the
 * module graph, so it also works when the toolkit is imported by URL).
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/**
 * The toolkit's version string.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(VERSION); // e.g. "0.1.0"
 * ```
 */
export const VERSION: string = config.version;
