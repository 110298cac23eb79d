/**
 * Matrix products of the transformer's linear layers (DESIGN.md §3, model):
 * the forward `X·Wᵀ` with weights in the Hugging Face `[out, in]` layout, the
 * input gradient `dY·W` and the weight gradient `dYᵀ·X`, each as one kernel
 * with an optional scale and accumulation, and a plain TypeScript reference.
 *
 * Two kernel families: with the `subgroups` feature (and subgroups of ≥ 8
 * lanes) the shared operand is loaded once per subgroup and broadcast; the
 * portable family needs nothing optional (GL backend, `{ portable: true }`).
 * {@linkcode matmul} picks the subgroup kernels whenever the device has them.
 * Forward products with at most 8 rows of X (single-token generation, short
 * prompts) go to a few-row kernel on both paths instead of 32-row tiles; it
 * sums in the same order, so the results are bit-identical.
 *
 * @module
 */

import * as kernels from "../../../kernels/mod.ts";
import type { Binding, Gpu } from "../../gpu/gpu.ts";
import type { Kernel } from "../../gpu/pipelines.ts";
import { bindingBytes, requireFinite, requireInt } from "../../gpu/arguments.ts";
import { specialize } from "../../gpu/specialize.ts";
import { packUniform } from "../../gpu/uniform.ts";
import {
  FEW_ROWS,
  fewRowsTile,
  LANE_COLS,
  type MatmulForm,
  matmulLayout,
  type MatmulModels,
  matmulPath,
  type MatmulShape,
  modelStrides,
  scratchBuffer,
  TILE_ROWS,
  workgroupLanes,
} from "./_matmul_plan.ts";

export type { MatmulForm, MatmulModels, MatmulShape };
export { releaseScratch } from "./_matmul_plan.ts";

const FORMS: readonly MatmulForm[] = ["xwt", "dyw", "dytx"];

const KERNELS: Readonly<Record<MatmulForm, { subgroups: Kernel; portable: Kernel }>> = {
  xwt: { subgroups: kernels.matmulXwt, portable: kernels.matmulXwtPortable },
  dyw: { subgroups: kernels.matmulDyw, portable: kernels.matmulDywPortable },
  dytx: { subgroups: kernels.matmulDytx, portable: kernels.matmulDytxPortable },
};

/** Lanes per workgroup of the padding kernel. */
const PAD_LANES = 64;

function checkShape(
  action: string,
  shape: MatmulShape,
): { alpha: number; accumulate: boolean; count: number } {
  if (!FORMS.includes(shape.form)) {
    throw new TypeError(
      `Cannot ${action}: form must be one of ${FORMS.join(", ")}, got "${shape.form}"`,
    );
  }
  requireInt(action, "m", shape.m);
  requireInt(action, "n", shape.n);
  requireInt(action, "k", shape.k);
  const alpha = shape.alpha ?? 1;
  requireFinite(action, "alpha", alpha);
  const count = shape.models?.count ?? 1;
  if (shape.models) {
    const { stride } = shape.models;
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(stride) || stride < 0) {
      throw new RangeError(
        `Cannot ${action}: models need a count ≥ 1 and a stride ≥ 0, got ${count} and ${stride}`,
      );
    }
  }
  return { alpha, accumulate: shape.accumulate ?? false, count };
}

/** An explicit range of `binding` covering `bytes` (rounded up to 16 where the buffer allows). */
function range(
  gpu: Gpu,
  action: string,
  name: string,
  binding: Binding,
  bytes: number,
): { buffer: GPUBuffer; offset: number; size: number } {
  const buffer = binding instanceof GPUBuffer ? binding : binding.buffer;
  const offset = binding instanceof GPUBuffer ? 0 : binding.offset ?? 0;
  const available = bindingBytes(binding);
  if (available < bytes) {
    throw new TypeError(
      `Cannot ${action}: ${name} holds ${Math.floor(available / 4)} values, ` +
        `the shape needs ${bytes / 4}`,
    );
  }
  if (bytes > gpu.info.maxStorageBufferBindingSize) {
    throw new RangeError(
      `Cannot ${action}: ${name} spans ${bytes} bytes, more than one binding may ` +
        `(${gpu.info.maxStorageBufferBindingSize}); split the product into row blocks`,
    );
  }
  const size = Math.min(
    Math.ceil(bytes / 16) * 16,
    available,
    gpu.info.maxStorageBufferBindingSize,
  );
  return { buffer, offset, size };
}

/** Bytes `count` models' `[rows, cols]` matrices span, `stride` elements apart. */
function spanBytes([rows, cols]: readonly [number, number], count: number, stride: number): number {
  return ((count - 1) * stride + rows * cols) * 4;
}

/**
 * Binding of `models` `[rows, cols]` operands (`stride` elements apart)
 * whose rows start on vec4 boundaries, and the vec4s from one model's to
 * the next's: the operand itself when `cols` is a multiple of 4, otherwise
 * a zero-padded copy recorded into scratch `slot` (of contiguous models only).
 */
async function aligned(
  gpu: Gpu,
  action: string,
  name: string,
  operand: Binding,
  [rows, cols]: readonly [number, number],
  slot: number,
  models: { count: number; stride: number } = { count: 1, stride: 0 },
): Promise<{ binding: Binding; model4: number }> {
  const source = range(
    gpu,
    action,
    name,
    operand,
    spanBytes([rows, cols], models.count, models.stride),
  );
  if (cols % 4 === 0) {
    if (models.stride % 4 !== 0) {
      throw new RangeError(
        `Cannot ${action}: ${name}'s models must be a multiple of 4 values apart, got ${models.stride}`,
      );
    }
    return { binding: source, model4: models.stride / 4 };
  }
  if (models.count > 1 && models.stride !== rows * cols) {
    throw new RangeError(
      `Cannot ${action}: ${name} has rows of ${cols} values (not a multiple of 4), which ` +
        "batched models support only for activations",
    );
  }
  const stride4 = Math.ceil(cols / 4);
  const count = models.count * rows * stride4;
  const bytes = count * 16;
  if (bytes > gpu.info.maxStorageBufferBindingSize) {
    throw new RangeError(
      `Cannot ${action}: ${name} padded to rows of ${stride4 * 4} values spans ${bytes} bytes, ` +
        `more than one binding may (${gpu.info.maxStorageBufferBindingSize})`,
    );
  }
  const target = scratchBuffer(gpu, slot, bytes);
  await gpu.dispatch({
    kernel: kernels.matmulPad,
    constants: { WG: PAD_LANES },
    storage: [{ buffer: target, offset: 0, size: bytes }, source],
    uniform: packUniform([
      ["u", models.count * rows],
      ["u", cols],
      ["u", stride4],
      ["u", count],
    ]),
    workgroups: Math.ceil(count / PAD_LANES),
  });
  return { binding: { buffer: target, offset: 0, size: bytes }, model4: rows * stride4 };
}

/**
 * Records one matrix product into `gpu`'s pending batch:
 *
 * - `"xwt"`: `out[m,n] = alpha·a[m,k]·b[n,k]ᵀ` — `Y = X·Wᵀ`, a linear layer's
 *   forward with `W` in the Hugging Face `[out, in]` layout;
 * - `"dyw"`: `out[m,k] = alpha·a[m,n]·b[n,k]` — `dX = dY·W`, its input gradient;
 * - `"dytx"`: `out[n,k] = alpha·a[m,n]ᵀ·b[m,k]` — `dW = dYᵀ·X`, its weight
 *   gradient (usually with `accumulate`).
 *
 * With `accumulate` the product is added to `out`. All matrices are
 * row-major f32. Uses the subgroup kernels when the device has them, and a
 * few-row kernel for `"xwt"` with m ≤ 8; a row length that is not a
 * multiple of 4 costs one extra zero-padding copy of that operand. `out`
 * must not overlap `a` or `b`.
 *
 * @param gpu the context whose batch records the work
 * @param out the output (read too when accumulating)
 * @param a `X` for `"xwt"`, `dY` otherwise
 * @param b `W` for `"xwt"` and `"dyw"`, `X` for `"dytx"`
 * @param shape the form, sizes, scale and accumulation
 *
 * @example
 * ```ts
 * import { matmul } from "./matmul.ts";
 * import { Gpu } from "../../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const x = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6])); // X [2, 3]
 * const w = gpu.upload(new Float32Array([1, 0, 0, 0, 1, 1])); // W [2, 3]
 * const y = gpu.buffer(4 * 4); // Y [2, 2]
 * await matmul(gpu, y, x, w, { form: "xwt", m: 2, n: 2, k: 3 });
 * console.log(new Float32Array(await gpu.read(y))); // Float32Array [1, 5, 4, 11]
 * gpu.destroy();
 * ```
 */
export async function matmul(
  gpu: Gpu,
  out: Binding,
  a: Binding,
  b: Binding,
  shape: MatmulShape,
): Promise<void> {
  const action = `matmul (form ${shape.form}, m=${shape.m}, n=${shape.n}, k=${shape.k})`;
  const { alpha, accumulate, count } = checkShape(action, shape);
  const layout = matmulLayout(shape);
  const [rows, cols] = layout.out;
  const strides = modelStrides(shape.form, layout, shape.models?.stride ?? 0);
  const target = range(gpu, action, "out", out, spanBytes(layout.out, count, strides.out));
  const aOperand = await aligned(gpu, action, "a", a, layout.a, 0, { count, stride: strides.a });
  const bOperand = await aligned(gpu, action, "b", b, layout.b, 1, { count, stride: strides.b });
  const path = matmulPath(gpu);
  // A few rows of X (generation, short prompts): 32-row tiles would mostly compute padding.
  const few = shape.form === "xwt" && shape.m <= FEW_ROWS;
  const lanes = workgroupLanes(gpu, few ? "portable" : path);
  const tileRows = few ? fewRowsTile(shape.m) : TILE_ROWS[path];
  const colTiles = Math.ceil(cols / (lanes * (few ? 4 : LANE_COLS[path])));
  const tiles = Math.ceil(rows / tileRows) * colTiles;
  await gpu.dispatch({
    kernel: few ? specialize(kernels.matmulXwtRows, { R: tileRows }) : KERNELS[shape.form][path],
    constants: { WG: lanes },
    storage: [target, aOperand.binding, bOperand.binding],
    uniform: packUniform([
      ["u", rows],
      ["u", cols],
      ["u", layout.depth],
      ["u", Math.ceil(layout.a[1] / 4)],
      ["u", Math.ceil(layout.b[1] / 4)],
      ["u", colTiles],
      ["u", tiles * count],
      ["f", alpha],
      ["u", accumulate ? 1 : 0],
      ["u", tiles],
      ["u", aOperand.model4],
      ["u", bOperand.model4],
      ["u", strides.out],
    ]),
    workgroups: tiles * count,
  });
}

/**
 * Plain TypeScript reference of {@linkcode matmul}: sums in double
 * precision, rounds once to f32. With `accumulate` the product is added to
 * `out` (zeros when absent); `out` itself is not modified.
 *
 * @example
 * ```ts
 * import { matmulReference } from "./matmul.ts";
 * const x = new Float32Array([1, 2, 3, 4, 5, 6]); // X [2, 3]
 * const w = new Float32Array([1, 0, 0, 0, 1, 1]); // W [2, 3]
 * console.log(matmulReference(x, w, { form: "xwt", m: 2, n: 2, k: 3 })); // Float32Array [1, 5, 4, 11]
 * ```
 */
export function matmulReference(
  a: Float32Array,
  b: Float32Array,
  shape: MatmulShape,
  out?: Float32Array,
): Float32Array {
  const action = `compute the matmul reference (form ${shape.form})`;
  const { alpha, accumulate } = checkShape(action, shape);
  const layout = matmulLayout(shape);
  const [rows, cols] = layout.out;
  for (
    const [name, array, size] of [
      ["a", a, layout.a[0] * layout.a[1]],
      ["b", b, layout.b[0] * layout.b[1]],
      ["out", out, accumulate && out ? rows * cols : 0],
    ] as const
  ) {
    if (array && array.length < size) {
      throw new TypeError(
        `Cannot ${action}: ${name} holds ${array.length} values, the shape needs ${size}`,
      );
    }
  }
  const { m, n, k } = shape;
  const result = new Float32Array(rows * cols);
  const sums = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    sums.fill(0);
    if (shape.form === "xwt") {
      // Y[i, j] = Σ_p X[i, p]·W[j, p]
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[j * k + p]!;
        sums[j] = s;
      }
    } else if (shape.form === "dyw") {
      // dX[i, q] = Σ_p dY[i, p]·W[p, q]
      for (let p = 0; p < n; p++) {
        const d = a[i * n + p]!;
        for (let q = 0; q < k; q++) sums[q]! += d * b[p * k + q]!;
      }
    } else {
      // dW[i, q] = Σ_p dY[p, i]·X[p, q]
      for (let p = 0; p < m; p++) {
        const d = a[p * n + i]!;
        for (let q = 0; q < k; q++) sums[q]! += d * b[p * k + q]!;
      }
    }
    for (let j = 0; j < cols; j++) {
      const old = accumulate && out ? out[i * cols + j]! : 0;
      result[i * cols + j] = alpha * sums[j]! + old;
    }
  }
  return result;
}
