/**
 * What each full-parameter federated algorithm declares about itself: its
 * optimiser type, per-round computation and communication, rounds to
 * converge, and the qualitative properties the paper compares in Table 1
 * (paper.md §1.4, §3 Table 1). Table 1 is rendered from these declarations.
 *
 * Notation (paper.md §1.4): τ₀ is one forward pass, τ₁ one forward+backward
 * pass, T local first-order iterations, K zeroth-order steps (FedZO,
 * FedKSeed) or random bases (Ferret), d the number of parameters.
 *
 * @module
 */

/** An algorithm's declared complexity and properties. */
export interface AlgorithmProperties {
  /** Display name. */
  readonly name: string;
  /** Zeroth-order (ZOO) or first-order (FOO) optimisation. */
  readonly type: "ZOO" | "FOO";
  /** Client computation per round. */
  readonly computation: "O(τ₀K)" | "O(τ₁T)";
  /** Communication per round. */
  readonly communication: "O(d)" | "O(K)";
  /** Rounds to converge, in ◦ (fewer is better): FedAvg < Ferret < FedZO ≈ FedKSeed. */
  readonly rounds: 1 | 2 | 3;
  /** Works with any local optimiser (FedKSeed is limited to SGD). */
  readonly adaptability: boolean;
  /** Generalisation in ♡ (more is better): all tune the full parameters. */
  readonly generalization: 1 | 2 | 3;
  /** Privacy in ⋄ (more is better): what leaves a client. */
  readonly privacy: 1 | 2 | 3;
  /** Why, with the paper's section. */
  readonly rationale: string;
}

/**
 * FedZO (Fang et al. 2022; paper.md §6).
 *
 * @example
 * ```ts
 * import { FEDZO } from "./properties.ts";
 * console.log(FEDZO.communication); // "O(d)"
 * ```
 */
export const FEDZO: AlgorithmProperties = {
  name: "FedZO",
  type: "ZOO",
  computation: "O(τ₀K)",
  communication: "O(d)",
  rounds: 3,
  adaptability: true,
  generalization: 3,
  privacy: 2,
  rationale: "K forward-difference steps per round; the whole model is sent (paper.md §6).",
};

/**
 * FedKSeed (Qin et al. 2024; paper.md §6).
 *
 * @example
 * ```ts
 * import { FEDKSEED } from "./properties.ts";
 * console.log(FEDKSEED.adaptability); // false: SGD only
 * ```
 */
export const FEDKSEED: AlgorithmProperties = {
  name: "FedKSeed",
  type: "ZOO",
  computation: "O(τ₀K)",
  communication: "O(K)",
  rounds: 3,
  adaptability: false,
  generalization: 3,
  privacy: 3,
  rationale: "Two-point ZO steps on K shared seeds; only K scalars travel; SGD-only (paper.md §6).",
};

/**
 * FedAvg (McMahan et al. 2017; paper.md §6).
 *
 * @example
 * ```ts
 * import { FEDAVG } from "./properties.ts";
 * console.log(FEDAVG.rounds); // 1: fewest rounds
 * ```
 */
export const FEDAVG: AlgorithmProperties = {
  name: "FedAvg",
  type: "FOO",
  computation: "O(τ₁T)",
  communication: "O(d)",
  rounds: 1,
  adaptability: true,
  generalization: 3,
  privacy: 1,
  rationale: "T first-order steps; the full model goes up and down (paper.md §6).",
};

/**
 * Ferret (this paper; paper.md §1).
 *
 * @example
 * ```ts
 * import { FERRET } from "./properties.ts";
 * console.log(FERRET.computation, FERRET.communication); // "O(τ₁T)" "O(K)"
 * ```
 */
export const FERRET: AlgorithmProperties = {
  name: "Ferret (ours)",
  type: "FOO",
  computation: "O(τ₁T)",
  communication: "O(K)",
  rounds: 2,
  adaptability: true,
  generalization: 3,
  privacy: 3,
  rationale: "T first-order steps, then K projected coordinates and a seed (paper.md §1.2–1.4).",
};

/**
 * The algorithms of Table 1, in the paper's order.
 *
 * @example
 * ```ts
 * import { TABLE1_ALGORITHMS } from "./properties.ts";
 * console.log(TABLE1_ALGORITHMS.map((a) => a.name)); // ["FedZO", "FedKSeed", "FedAvg", "Ferret (ours)"]
 * ```
 */
export const TABLE1_ALGORITHMS: readonly AlgorithmProperties[] = [FEDZO, FEDKSEED, FEDAVG, FERRET];
