/**
 * Kernels specialised by substituting their `const` sizes, for per-lane
 * arrays that WGSL requires to be sized by constant expressions.
 *
 * @module
 */

import type { Kernel } from "./pipelines.ts";

const specialized = new Map<string, Kernel>();

/**
 * `kernel` with its `const NAME: u32 = …;` lines replaced by the given
 * values. Used for sizes of per-lane arrays, which WGSL requires to be
 * constant expressions (an `override` may only size workgroup arrays).
 */
export function specialize(kernel: Kernel, consts: Readonly<Record<string, number>>): Kernel {
  const key = `${kernel.name}@${Object.entries(consts).map(([k, v]) => `${k}=${v}`).join(",")}`;
  let result = specialized.get(key);
  if (!result) {
    let code = kernel.code;
    for (const [name, value] of Object.entries(consts)) {
      const pattern = new RegExp(`const ${name}: u32 = \\d+u;`);
      if (!pattern.test(code)) {
        throw new TypeError(`Cannot specialize kernel "${kernel.name}": no constant ${name}`);
      }
      code = code.replace(pattern, `const ${name}: u32 = ${value}u;`);
    }
    result = { name: key, code };
    specialized.set(key, result);
  }
  return result;
}
