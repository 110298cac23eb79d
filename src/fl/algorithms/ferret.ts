/**
 * Ferret (Shu et al., ICML 2025; paper.md §1, §7): first-order local
 * updates, then shared randomness — each client projects its update onto
 * random bases block by block and sends only the coordinates; everyone
 * rebuilds the update from (seeds, coordinates).
 *
 * Two switchable modes, recorded in `options.mode` (DESIGN.md §5):
 * - `paper` (src/fl/algorithms/ferret_paper.ts): Eqs. 2, 6–8, a fresh seed
 *   per client per round, Σ_l K_l = K by an allocation rule, optional exact
 *   least squares (Eq. 5), optional global learning rate;
 * - `official` (src/fl/algorithms/ferret_official.ts): the released code —
 *   d_l/K_l scaling, K_l = max(⌊‖Δ_l‖/max‖Δ‖·K⌋, 2), one shared seed pool,
 *   per-seed per-block clipping, annealed server learning rate, seed-pool
 *   momentum, equal client weights.
 *
 * Blocks are `groupTensors` over the trainable tensors (default the code's
 * grouping, L = 194 for DataJuicer-1.3B's shapes; paper.md §7 item 3); a
 * block spans its tensors' slots in the flat vector, alignment gaps
 * included (they stay zero in every update, so they change nothing but
 * d_l by at most 63 elements per tensor).
 *
 * Global aggregation: by default the server rebuilds the model once and
 * the clients copy it (the code's way, paper.md §7 item 10). With
 * `rebuild: "client"` the clients keep their own copy and rebuild it from
 * the downloaded seeds and coordinates (Algorithm 1 lines 3–6; that is the
 * timed aggregation then), train from it, and the run checks every round
 * that it agrees with the server's model to `rebuildTolerance` (relative).
 *
 * Everything runs on the GPU; per client the CPU reads back the step
 * losses, the L block norms and the coordinates.
 *
 * @module
 */

import type { GpuVector } from "../../gpu/vector.ts";
import type { TrainMode } from "../../model/peft/adapter.ts";
import type { Transformer } from "../../model/transformer.ts";
import type { AllocationRule } from "../../projection/allocation.ts";
import { type Block, type GroupingRule, groupTensors } from "../../projection/blocks.ts";
import type { Distribution } from "../../random/basis.ts";
import { axpy } from "../../vector/axpy.ts";
import type { LocalTrainingOptions } from "../local.ts";
import { keptWeights } from "../sampling.ts";
import type { FederatedAlgorithm, RoundContext, RoundOutcome } from "../types.ts";
import { ClientUpdates, meanLoss } from "./_client_update.ts";
import { BlockNorms, totalNorm } from "./block_norms.ts";
import {
  type Anneal,
  type OfficialDownload,
  type OfficialMessage,
  OfficialMode,
} from "./ferret_official.ts";
import { type PaperDownload, type PaperMessage, PaperMode } from "./ferret_paper.ts";
import { FERRET } from "./properties.ts";
import { decodeState, encodeState } from "./_state.ts";

/** Options of {@linkcode ferret}. */
export interface FerretOptions {
  /** `paper` (default) or `official`. */
  readonly mode?: "paper" | "official";
  /** Local training (the paper: T = 10 steps of n_accum = 4, SGD, lr 1e-4). */
  readonly local: LocalTrainingOptions;
  /** Paper: Σ_l K_l. Official: the pool size, also the most bases per block (`--K`). */
  readonly K: number;
  /** Paper: global learning rate η_g. Official: slr_max. Default 1. */
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
  /** Paper: allocation rule (default `norm`, the experiments'). */
  readonly allocation?: AllocationRule;
  /** Paper: exact least squares, Eq. 5 (small d only). */
  readonly leastSquares?: boolean;
  /** Official: slr_min (default = slr_max). */
  readonly slrMin?: number;
  /** Official: annealing (default `none`, the script's). */
  readonly anneal?: Anneal;
  /** Official: seed-pool momentum (default 0, the script's). */
  readonly momentum?: number;
  /** Official: per-seed per-block clip norm (default 10). */
  readonly clip?: number;
  /** Official: equal client weights (default true, the script's `--equal_weight`). */
  readonly equalWeight?: boolean;
  /** Who rebuilds the global model (default `server`). */
  readonly rebuild?: "server" | "client";
  /** Largest relative difference between the clients' and the server's model (default 1e-5). */
  readonly rebuildTolerance?: number;
}

/** A client's upload. */
export type FerretMessage = PaperMessage | OfficialMessage;

/** Ferret, with what its last round sent (for reports and tests). */
export interface FerretAlgorithm extends FederatedAlgorithm {
  /** The blocks (after setup). */
  readonly blocks: readonly Block[];
  /** The messages the server aggregated in the last round. */
  readonly lastMessages: readonly FerretMessage[];
  /** Frees the buffers. */
  destroy(): void;
}

/** Blocks of the trainable tensors, as segments of the flat vector (gaps included). */
function trainableBlocks(
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
 * Ferret in paper or official mode.
 *
 * @example
 * ```ts
 * import { ferret } from "../../../mod.ts";
 * const algorithm = ferret({
 *   K: 200, globalLr: 10, mode: "official",
 *   local: { steps: 10, nAccum: 4, optimizer: { kind: "sgd", lr: 1e-4 } },
 * });
 * console.log(algorithm.id); // ferret-official
 * ```
 */
export function ferret(options: FerretOptions): FerretAlgorithm {
  const mode = options.mode ?? "paper";
  if (mode !== "paper" && mode !== "official") {
    throw new TypeError(`Cannot run Ferret in mode "${mode}": expected paper or official`);
  }
  const globalLr = options.globalLr ?? 1;
  if (!(globalLr > 0) || !Number.isFinite(globalLr)) {
    throw new RangeError(`Cannot run Ferret with global learning rate ${globalLr}`);
  }
  const trains = options.trains ?? "full";
  const grouping = options.grouping ?? "official";
  const groupMultiplier = options.groupMultiplier ?? 0.9;
  const distribution = options.distribution ?? "truncnormal";
  const rebuild = options.rebuild ?? "server";
  const tolerance = options.rebuildTolerance ?? 1e-5;
  const recorded: Record<string, unknown> = {
    mode,
    K: options.K,
    globalLr,
    grouping,
    ...(groupMultiplier === 0.9 ? {} : { groupMultiplier }),
    distribution,
    trains,
    rebuild,
    local: options.local,
  };
  if (mode === "paper") {
    Object.assign(recorded, {
      allocation: options.allocation ?? "norm",
      leastSquares: options.leastSquares ?? false,
    });
  } else {
    Object.assign(recorded, {
      slrMin: options.slrMin ?? globalLr,
      anneal: options.anneal ?? "none",
      momentum: options.momentum ?? 0,
      clip: options.clip ?? 10,
      equalWeight: options.equalWeight ?? true,
    });
  }

  let updates: ClientUpdates | null = null;
  let paper: PaperMode | null = null;
  let official: OfficialMode | null = null;
  let clientModel: GpuVector | null = null;
  let normsPlan: BlockNorms | null = null;
  let blocks: Block[] = [];
  let lastMessages: FerretMessage[] = [];
  const free = () => {
    updates?.destroy();
    official?.destroy();
    clientModel?.destroy();
    normsPlan?.destroy();
    updates =
      paper =
      official =
      clientModel =
      normsPlan =
        null;
  };

  /** ‖a − b‖ / ‖b‖ over the trainable tensors, using `scratch`. */
  const relativeDifference = async (a: GpuVector, b: GpuVector, scratch: GpuVector) => {
    a.copyTo(scratch);
    await axpy(-1, b, scratch);
    await normsPlan!.record(scratch);
    const diff = totalNorm(await normsPlan!.read());
    const base = totalNorm(await normsPlan!.norms(b));
    return diff / Math.max(base, Number.MIN_VALUE);
  };

  const algorithm: FerretAlgorithm = {
    name: "Ferret (ours)",
    id: `ferret-${mode}`,
    trains,
    options: recorded,
    properties: FERRET,
    get blocks() {
      return blocks;
    },
    get lastMessages() {
      return lastMessages;
    },
    setup(model: Transformer): Promise<void> {
      free();
      if (model.train !== trains) model.train = trains;
      blocks = trainableBlocks(model, grouping, groupMultiplier);
      updates = new ClientUpdates(model, options.local, blocks);
      const params = model.trainable.params;
      normsPlan = new BlockNorms(
        model.gpu,
        params.vector,
        params.layout.tensors.map((t) => ({ start: t.offset, length: t.numel })),
      );
      if (mode === "paper") {
        paper = new PaperMode(model.gpu, blocks, {
          K: options.K,
          allocation: options.allocation ?? "norm",
          leastSquares: options.leastSquares ?? false,
          globalLr,
          distribution,
        }, updates.start.like("least-squares scratch"));
      } else {
        official = new OfficialMode(model.gpu, blocks, {
          K: options.K,
          slrMax: globalLr,
          slrMin: options.slrMin ?? globalLr,
          anneal: options.anneal ?? "none",
          momentum: options.momentum ?? 0,
          clip: options.clip ?? 10,
          equalWeight: options.equalWeight ?? true,
          distribution,
        }, params.vector);
      }
      if (rebuild === "client") {
        clientModel = params.vector.like("client model");
        params.vector.copyTo(clientModel);
      }
      return Promise.resolve();
    },
    async round(context: RoundContext): Promise<RoundOutcome> {
      const u = updates;
      if (!u) throw new TypeError("Cannot run a Ferret round before setup");
      const gpu = context.gpu;
      if (official) await official.ensurePool(context, u.delta);
      u.begin();
      const from = clientModel ?? u.start;
      const messages: FerretMessage[] = [];
      const kept: number[] = [];
      const losses: number[] = [];
      const norms: number[] = [];
      const dropped: boolean[] = [];
      for (const [i, client] of context.clients.entries()) {
        const message = await context.time("local", async () => {
          const update = await u.train(context, client, from);
          losses.push(update.local.meanLoss);
          norms.push(update.norm);
          if (!update.finite) return null;
          return paper
            ? await paper.encode(context, client, update, u.delta)
            : await official!.encode(context, client, update, u.delta);
        });
        dropped.push(message === null);
        const coordinates = message?.coordinates.length ?? 0;
        context.ledger.record({
          round: context.round,
          client: client.id,
          direction: "up",
          scalars: coordinates,
          seeds: paper && message ? 1 : 0,
          // Paper: 8-byte seed, 4-byte counts per block, f32 coordinates. Official: f32 + u32 index each.
          bytes: paper ? (message ? 8 + 4 * blocks.length + 4 * coordinates : 0) : 8 * coordinates,
        });
        if (message) {
          messages.push(message);
          kept.push(i);
        }
        context.progress({ client: i, loss: losses[i]! });
      }
      const weights = keptWeights(context.weights, dropped);
      const keptWeightsList = kept.map((i) => weights[i]!);
      let download: PaperDownload | OfficialDownload;
      let size: { scalars: number; seeds: number };
      if (paper) {
        download = { messages: messages as PaperMessage[], weights: keptWeightsList };
        size = paper.downloadSize(download);
      } else {
        download = official!.aggregate(
          messages as OfficialMessage[],
          keptWeightsList,
          context.round,
          context.rounds,
        );
        size = official!.downloadSize(download);
      }
      const apply = (target: GpuVector) =>
        paper
          ? paper.apply(target, download as PaperDownload)
          : official!.apply(target, download as OfficialDownload);
      const serverWork = async () => {
        u.start.copyTo(u.params);
        const release = await apply(u.params);
        await gpu.sync();
        release.forEach((f) => f());
      };
      if (rebuild === "server") await context.time("aggregate", serverWork);
      else await serverWork();
      for (const client of context.clients) {
        context.ledger.record({
          round: context.round,
          client: client.id,
          direction: "down",
          scalars: size.scalars,
          seeds: size.seeds,
          bytes: paper
            ? 8 * size.seeds + 4 * blocks.length * size.seeds + 4 * size.scalars
            : 8 + 8 * size.scalars,
        });
      }
      const extra: Record<string, number> = {
        coordinates: messages.length
          ? messages.reduce((s, m) => s + m.coordinates.length, 0) / messages.length
          : 0,
      };
      if (official) extra.slr = (download as OfficialDownload).slr;
      if (clientModel) {
        const model = clientModel;
        await context.time("aggregate", async () => {
          const release = await apply(model);
          await gpu.sync();
          release.forEach((f) => f());
        });
        const error = await relativeDifference(model, u.params, u.delta);
        extra.rebuildError = error;
        if (!(error <= tolerance)) {
          throw new RangeError(
            `Cannot verify the clients' rebuilt model in round ${context.round}: it differs from ` +
              `the server's by a relative ${error} (tolerance ${tolerance})`,
          );
        }
      }
      lastMessages = messages;
      return {
        trainLoss: meanLoss(losses),
        dropped: context.clients.filter((_, i) => dropped[i]).map((c) => c.id),
        extra,
        clientLosses: losses,
        updateNorms: norms,
      };
    },
    async saveState(): Promise<Uint8Array> {
      return encodeState({
        pool: official ? official.pool : new Float32Array(0),
        clientModel: clientModel ? await clientModel.read() : new Float32Array(0),
      });
    },
    loadState(state: Uint8Array): Promise<void> {
      const sections = decodeState(state);
      const pool = sections.get("pool");
      if (official && pool && pool.length === official.pool.length) official.pool = pool;
      const saved = sections.get("clientModel");
      if (clientModel && saved && saved.length === clientModel.length) clientModel.write(saved);
      return Promise.resolve();
    },
    destroy: free,
  };
  return algorithm;
}
