/**
 * What Ferret's two implementations share (paper.md §1, §7):
 *
 * - the options common to both modes;
 * - the blocks: `groupTensors` over the trainable tensors (default the
 *   code's grouping, L = 194 for DataJuicer-1.3B's shapes; paper.md §7
 *   item 3), a block spanning its tensors' slots in the flat vector,
 *   alignment gaps included (they stay zero in every update, so they
 *   change nothing but d_l by at most 63 elements per tensor);
 * - who rebuilds the global model: by default the server rebuilds it once
 *   and the clients copy it (the code's way, paper.md §7 item 10); with
 *   `rebuild: "client"` the clients keep their own copy, rebuild it from
 *   the downloaded seeds and coordinates (Algorithm 1 lines 3–6), train
 *   from it, and the run checks every round that it agrees with the
 *   server's model to `rebuildTolerance` (relative).
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import { type Block, type GroupingRule, groupTensors } from "../../projection/blocks.ts";
import type { Distribution } from "../../random/basis.ts";
import { axpy } from "../../gpu/axpy.ts";
import type { LocalTrainingOptions } from "../local.ts";
import { decodeState, encodeState } from "./_state.ts";
import { BlockNorms, totalNorm } from "../../gpu/segment_norms.ts";

/** Options of both Ferret implementations. */
export interface FerretCommonOptions {
  /** Local training (the paper: T = 10 steps of n_accum = 4, SGD, lr 1e-4). */
  readonly local: LocalTrainingOptions;
  /** Paper: Σ_l K_l. Official: the pool size, also the most bases per block (`--K`). */
  readonly K: number;
  /** Global learning rate η_g (the official code's server learning rate slr_max). Default 1. */
  readonly globalLr?: number;
  /** Tensor grouping into blocks (default `official`). */
  readonly grouping?: GroupingRule;
  /**
   * Target multiplier of the `official` grouping (default 0.9, the code's):
   * larger values merge more tensors, giving fewer blocks L (Fig. 5 varies L
   * this way; paper.md §4 Fig. 5).
   */
  readonly groupMultiplier?: number;
  /** Basis distribution (default `truncnormal`, the paper's). */
  readonly distribution?: Distribution;
  /** What trains and travels (default `full`). */
  readonly trains?: TrainMode;
  /** Who rebuilds the global model (default `server`). */
  readonly rebuild?: "server" | "client";
  /** Largest relative difference between the clients' and the server's model (default 1e-5). */
  readonly rebuildTolerance?: number;
}

/** The common options with their defaults. */
export type FerretCommonSettings = Required<Omit<FerretCommonOptions, "groupMultiplier">> & {
  readonly groupMultiplier: number;
};

/** Resolves and checks the common options (`what` names the mode in errors). */
export function commonSettings(options: FerretCommonOptions, what: string): FerretCommonSettings {
  const globalLr = options.globalLr ?? 1;
  if (!(globalLr > 0) || !Number.isFinite(globalLr)) {
    throw new RangeError(`Cannot run ${what} with global learning rate ${globalLr}`);
  }
  const rebuild = options.rebuild ?? "server";
  if (rebuild !== "server" && rebuild !== "client") {
    throw new TypeError(`Cannot run ${what} with rebuild "${rebuild}": expected server or client`);
  }
  return {
    local: options.local,
    K: options.K,
    globalLr,
    grouping: options.grouping ?? "official",
    groupMultiplier: options.groupMultiplier ?? 0.9,
    distribution: options.distribution ?? "truncnormal",
    trains: options.trains ?? "full",
    rebuild,
    rebuildTolerance: options.rebuildTolerance ?? 1e-5,
  };
}

/** The settings as recorded in manifests (the default group multiplier left out). */
export function recordedSettings(
  mode: "paper" | "official",
  settings: FerretCommonSettings,
  specific: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { groupMultiplier, rebuildTolerance: _, ...rest } = settings;
  return {
    mode,
    ...rest,
    ...(groupMultiplier === 0.9 ? {} : { groupMultiplier }),
    ...specific,
  };
}

/** Blocks of the trainable tensors, as segments of the flat vector (gaps included). */
export function trainableBlocks(
  model: Transformer,
  grouping: GroupingRule,
  multiplier: number,
): Block[] {
  const tensors = model.trainable.params.layout.tensors;
  const groups = groupTensors(
    tensors.map((t) => ({ name: t.name, size: t.numel })),
    grouping,
    multiplier,
  );
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return groups.map((g) => {
    const first = byName.get(g.tensors[0]!)!;
    const last = byName.get(g.tensors[g.tensors.length - 1]!)!;
    return {
      start: first.offset,
      length: last.offset + last.numel - first.offset,
      tensors: g.tensors,
    };
  });
}

/**
 * The clients' own copy of the global model under `rebuild: "client"`:
 * they apply every broadcast to it, and the run checks it against the
 * server's model.
 */
export class ClientRebuild {
  /** The clients' copy of the global trainable vector. */
  readonly model: GpuVector;
  readonly #tolerance: number;
  readonly #norms: BlockNorms;
  readonly #scratch: GpuVector;

  /** A copy of `model`'s trainable vector, checked to `tolerance`. */
  constructor(model: Transformer, tolerance: number) {
    const params = model.trainable.params;
    this.model = params.vector.like("client model");
    params.vector.copyTo(this.model);
    this.#scratch = params.vector.like("client rebuild check");
    this.#tolerance = tolerance;
    this.#norms = new BlockNorms(
      model.gpu,
      params.vector,
      params.layout.tensors.map((t) => ({ start: t.offset, length: t.numel })),
    );
  }

  /**
   * Rebuilds the clients' copy with `apply` and returns its relative
   * difference ‖copy − server‖ / ‖server‖; throws past the tolerance.
   */
  async rebuild(
    apply: (target: GpuVector) => Promise<void>,
    server: GpuVector,
    round: number,
  ): Promise<number> {
    await apply(this.model);
    this.model.copyTo(this.#scratch);
    await axpy(-1, server, this.#scratch);
    const diff = totalNorm(await this.#norms.norms(this.#scratch));
    const base = totalNorm(await this.#norms.norms(server));
    const error = diff / Math.max(base, Number.MIN_VALUE);
    if (!(error <= this.#tolerance)) {
      throw new RangeError(
        `Cannot verify the clients' rebuilt model in round ${round}: it differs from ` +
          `the server's by a relative ${error} (tolerance ${this.#tolerance})`,
      );
    }
    return error;
  }

  /** Frees the copy. */
  destroy(): void {
    this.model.destroy();
    this.#scratch.destroy();
    this.#norms.destroy();
  }
}

/** Server state of either mode: the official pool (empty in paper mode) and the clients' copy. */
export async function saveFerretState(
  pool: Float32Array,
  rebuild: ClientRebuild | null,
): Promise<Uint8Array> {
  const clientModel = rebuild ? await rebuild.model.read() : new Float32Array(0);
  return encodeState({ pool, clientModel });
}

/** Restores the clients' copy from {@linkcode saveFerretState}'s bytes and returns the pool. */
export function loadFerretState(
  state: Uint8Array,
  rebuild: ClientRebuild | null,
): Float32Array | undefined {
  const sections = decodeState(state);
  const saved = sections.get("clientModel");
  if (rebuild && saved && saved.length === rebuild.model.length) rebuild.model.write(saved);
  return sections.get("pool");
}
