/**
 * A federation client (`deno task client`): fetches the server's spec
 * (src/federation/spec.ts), builds the same model and algorithm and its own
 * data — client i holds partition i of the spec's suite, or the examples
 * of its own file, rendered with the suite's template — joins the
 * server's WebSocket with the token, and then follows the server:
 *
 * - `welcome`: takes the global model it carries (once at joining, and
 *   again only when its hash disagreed with the server's);
 * - `train` r: trains from its global model with the algorithm's own client
 *   work and the run's streams for round r (the simulator's), and uploads
 *   its message (src/federation/codecs.ts) with its mean loss and ‖Δ‖;
 * - `broadcast` r: applies it — for Ferret by rebuilding the update from
 *   the pool's seeds and coordinates, never downloading weights — and
 *   answers with the SHA-256 of its model;
 * - `done`: the federation is over.
 *
 * If the connection drops (a server restart), it reconnects and joins
 * again, for as long as `retrySeconds` allows; a join the server refuses
 * (a wrong token, another sample count than before) fails at once with the
 * server's reason.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { GpuVector } from "../gpu/vector.ts";
import type { Transformer } from "../model/transformer.ts";
import { roundInfo, runStreams } from "../fl/simulator.ts";
import type { ClientData, FederatedAlgorithm } from "../fl/types.ts";
import { codecFor, type WireCodec } from "./codecs.ts";
import type { Example } from "../data/example.ts";
import {
  type FederationSpec,
  specAlgorithm,
  specClientData,
  specClients,
  specModel,
  validateSpec,
} from "./spec.ts";
import {
  concatBytes,
  decodeFrame,
  encodeFrame,
  type Frame,
  hex,
  kindName,
  MessageKind,
  modelHash,
} from "./wire.ts";

/** Options of {@linkcode runClient}. */
export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:8787`. */
  readonly server: string;
  /** The token the server issued. */
  readonly token: string;
  /** Its index 0 … N − 1; without `examples` it holds that partition of the spec's suite. */
  readonly client: number;
  /** Its own examples instead (a file read through the loaders: src/cli/client.ts). */
  readonly examples?: readonly Example[];
  /** The device it trains on. */
  readonly gpu: Gpu;
  /** Seconds to keep reconnecting after the connection drops (default 60). */
  readonly retrySeconds?: number;
  /** Where progress lines go (default nowhere). */
  readonly log?: (line: string) => void;
  /** Called after every frame with where the client stands (the browser page's status view). */
  readonly onStatus?: (status: ClientStatus) => void;
}

/** Where a client stands. */
export interface ClientStatus {
  /** The last round whose global model it holds. */
  readonly round: number;
  /** Rounds it trained in. */
  readonly trained: number;
  /** Its last mean local loss (NaN before it trains). */
  readonly loss: number;
  /** Frame bytes sent and received after joining, and received at joining. */
  readonly bytes: { readonly up: number; readonly down: number; readonly welcome: number };
  /** SHA-256 of its model after the last broadcast, in hex ("" before one). */
  readonly hash: string;
  /** Times the server sent the whole model again because the hashes disagreed. */
  readonly resyncs: number;
  /** Whether the server has said the federation is over. */
  readonly done: boolean;
}

/** What a client did. */
export interface ClientSummary {
  /** Rounds it trained in. */
  readonly trained: number[];
  /** Broadcasts it applied. */
  readonly applied: number;
  /** Welcomes it took (1 per join, more after a disagreement). */
  readonly welcomes: number;
  /** Its mean local loss per round it trained in. */
  readonly losses: number[];
  /** The server's last eval loss, as `done` reported it. */
  readonly evalLoss: number | null;
  /** Frame bytes it sent and received (framing included), welcomes apart. */
  readonly bytes: { readonly up: number; readonly down: number; readonly welcome: number };
  /** The SHA-256 of its final model, in hex. */
  readonly hash: string;
}

/**
 * The spec of the federation at `server`, asked for with the token.
 *
 * @example
 * ```ts
 * import { fetchSpec } from "./client.ts";
 * import { FederationServer } from "./server.ts";
 * import { exampleSpec } from "./spec.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.create();
 * const server = await FederationServer.start({ spec: exampleSpec(), gpu, port: 0 });
 * console.log((await fetchSpec(server.url, server.token)).algorithm.kind); // ferret
 * await fetchSpec(server.url, "wrong").catch((e) => console.log(e.message.includes("token"))); // true
 * await server.close();
 * gpu.destroy();
 * ```
 */
export async function fetchSpec(server: string, token: string): Promise<FederationSpec> {
  const response = await fetch(new URL("/spec", server), {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`Cannot fetch the federation's spec from ${server}: ${text.trim()}`);
  }
  return validateSpec(JSON.parse(text));
}

/** One client's state across connections. */
class ClientState {
  readonly trained: number[] = [];
  readonly losses: number[] = [];
  applied = 0;
  welcomes = 0;
  up = 0;
  down = 0;
  welcome = 0;
  evalLoss: number | null = null;
  done = false;
  round = 0;
  hash = "";
  /** The server's last `error` message. */
  lastError: string | null = null;

  constructor(
    readonly spec: FederationSpec,
    readonly model: Transformer,
    readonly algorithm: FederatedAlgorithm,
    readonly codec: WireCodec,
    readonly data: ClientData,
    readonly global: GpuVector,
    readonly log: (line: string) => void,
  ) {}

  status(): ClientStatus {
    return {
      round: this.round,
      trained: this.trained.length,
      loss: this.losses.at(-1) ?? NaN,
      bytes: { up: this.up, down: this.down, welcome: this.welcome },
      hash: this.hash,
      resyncs: Math.max(0, this.welcomes - 1),
      done: this.done,
    };
  }

  /** The model's trainable vector: the global model between rounds. */
  get params(): GpuVector {
    return this.model.trainable.params.vector;
  }

  async handle(frame: Frame, send: (frame: Uint8Array) => void): Promise<void> {
    const counted = (bytes: Uint8Array) => {
      send(bytes);
      this.up += bytes.length;
    };
    switch (frame.kind) {
      case MessageKind.welcome: {
        this.codec.setParameters(this.params, new Float32Array(frame.payload.slice().buffer));
        this.welcomes++;
        this.welcome += frame.bytes;
        this.round = frame.round;
        this.log(`client ${this.data.id}: holds the global model after round ${frame.round}`);
        return;
      }
      case MessageKind.train: {
        this.down += frame.bytes;
        const info = roundInfo(this.spec.seed, frame.round, this.spec.rounds);
        this.params.copyTo(this.global);
        const [outcome] = await this.algorithm.train({
          ...info,
          model: this.model,
          global: this.global,
          clients: [this.data],
        });
        const message = outcome!.upload === null
          ? new Uint8Array(0)
          : await this.codec.encodeUpload(outcome!.upload);
        this.global.copyTo(this.params);
        const prefix = new Float32Array([outcome!.loss, outcome!.updateNorm ?? NaN]);
        counted(encodeFrame(MessageKind.upload, frame.round, null, concatBytes(prefix, message)));
        this.trained.push(frame.round);
        this.losses.push(outcome!.loss);
        this.log(
          `client ${this.data.id}: round ${frame.round} trained, loss ${outcome!.loss.toFixed(4)}`,
        );
        return;
      }
      case MessageKind.broadcast: {
        this.down += frame.bytes;
        const info = roundInfo(this.spec.seed, frame.round, this.spec.rounds);
        await this.codec.applyBroadcast(frame.payload, this.params, info);
        this.applied++;
        this.round = frame.round;
        const hash = await modelHash(await this.codec.parameters(this.params));
        this.hash = hex(hash);
        counted(encodeFrame(MessageKind.ack, frame.round, null, hash));
        return;
      }
      case MessageKind.error:
        this.lastError = String(frame.json.message);
        this.log(`client ${this.data.id}: the server says: ${this.lastError}`);
        return;
      case MessageKind.done:
        this.evalLoss = typeof frame.json.evalLoss === "number" ? frame.json.evalLoss : null;
        this.done = true;
        return;
      default:
        send(encodeFrame(MessageKind.error, frame.round, {
          message: `A client does not take ${kindName(frame.kind)} frames`,
        }));
    }
  }
}

/** How a connection ended: the federation is done, the server refused the join (why), or it dropped. */
type Ending = { readonly done: true } | { readonly refused: string } | { readonly dropped: true };

/** The close code a server refuses a join with (src/federation/server.ts). */
const REFUSED = 4401;

/** One connection: join, follow the server until it closes. */
function connect(state: ClientState, options: ClientOptions): Promise<Ending> {
  const url = new URL("/federation", options.server);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    let chain = Promise.resolve();
    const send = (bytes: Uint8Array) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
    };
    socket.onopen = () => {
      send(encodeFrame(MessageKind.join, 0, {
        token: options.token,
        client: options.client,
        samples: state.data.sequences.length,
      }));
    };
    socket.onmessage = (event) => {
      // Frames are handled one after another, in arrival order.
      chain = chain.then(async () => {
        try {
          const frame = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
          await state.handle(frame, send);
          options.onStatus?.(state.status());
          if (state.done) socket.close(1000, "done");
        } catch (error) {
          state.log(`client ${options.client}: ${(error as Error).message}`);
          send(encodeFrame(MessageKind.error, 0, { message: (error as Error).message }));
        }
      });
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      chain.then(() =>
        resolve(
          state.done
            ? { done: true }
            : event.code === REFUSED
            ? { refused: state.lastError ?? event.reason }
            : { dropped: true },
        )
      );
    };
  });
}

/**
 * Runs one client until the server says the federation is done (or stops
 * answering for longer than `retrySeconds`).
 *
 * @example
 * ```ts
 * import { runClient } from "./client.ts";
 * import { FederationServer } from "./server.ts";
 * import { exampleSpec } from "./spec.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const spec = { ...exampleSpec("gsm8k-like", "ferret"), rounds: 2 };
 * const gpu = await Gpu.create();
 * const server = await FederationServer.start({ spec, gpu, port: 0 });
 * const running = server.run();
 * const [first, ...others] = await Promise.all([0, 1, 2].map(async (client) => {
 *   const own = await Gpu.create();
 *   const summary = await runClient({ server: server.url, token: server.token, client, gpu: own });
 *   own.destroy();
 *   return summary;
 * }));
 * await running;
 * console.log(first!.trained, others.every((o) => o.hash === first!.hash)); // [ 1, 2 ] true
 * await server.close();
 * gpu.destroy();
 * ```
 */
export async function runClient(options: ClientOptions): Promise<ClientSummary> {
  const log = options.log ?? (() => {});
  const retry = options.retrySeconds ?? 60;
  const spec = await fetchSpec(options.server, options.token);
  const partitions = specClients(spec);
  const own = partitions[options.client];
  if (!Number.isInteger(options.client) || !own) {
    throw new RangeError(
      `Cannot be client ${options.client}: the federation has ${partitions.length}`,
    );
  }
  const data = options.examples ? specClientData(spec, options.client, options.examples) : own;
  const model = await specModel(options.gpu, spec);
  const algorithm = specAlgorithm(spec);
  const global = model.trainable.params.vector.like("client's global model");
  try {
    await algorithm.setup(model, runStreams(spec.seed));
    const codec = codecFor(algorithm, model);
    const state = new ClientState(spec, model, algorithm, codec, data, global, log);
    let quietSince = performance.now();
    while (!state.done) {
      const before = state.applied + state.trained.length + state.welcomes;
      const ending = await connect(state, options);
      if ("done" in ending) break;
      if ("refused" in ending) {
        throw new Error(
          `The federation at ${options.server} refused client ${options.client}: ${ending.refused}`,
        );
      }
      if (state.applied + state.trained.length + state.welcomes > before) {
        quietSince = performance.now();
      }
      if ((performance.now() - quietSince) / 1000 > retry) {
        throw new Error(
          `Cannot reach the federation at ${options.server}: no progress for ${retry} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    codec.destroy();
    return {
      trained: state.trained,
      applied: state.applied,
      welcomes: state.welcomes,
      losses: state.losses,
      evalLoss: state.evalLoss,
      bytes: { up: state.up, down: state.down, welcome: state.welcome },
      hash: state.hash,
    };
  } finally {
    global.destroy();
    algorithm.destroy?.();
    model.destroy();
  }
}
