/** Federations on loopback for the federation tests: a server, Deno clients, raw sockets. */

import { Gpu } from "../../src/gpu/gpu.ts";
import { type ClientSummary, runClient } from "../../src/federation/client.ts";
import {
  FederationServer,
  type ServerOptions,
  type WireTransfer,
} from "../../src/federation/server.ts";
import {
  type FederationSpec,
  specAlgorithm,
  specClients,
  specEvaluation,
  specModel,
} from "../../src/federation/spec.ts";
import { decodeFrame, type Frame } from "../../src/federation/wire.ts";
import { simulate, type SimulationResult } from "../../src/fl/simulator.ts";
import type { ClientData } from "../../src/fl/types.ts";
import type { Example } from "../../src/data/example.ts";

/**
 * A started server on a free port, on its own device: closing it releases
 * the device too (a device left to the end of the test process is torn
 * down by the runtime's exit, which has aborted the process).
 */
export async function startServer(
  spec: FederationSpec,
  options: Partial<ServerOptions> = {},
): Promise<FederationServer> {
  const gpu = await Gpu.create();
  try {
    const server = await FederationServer.start({ spec, gpu, port: 0, ...options });
    const close = server.close.bind(server);
    server.close = async () => {
      try {
        await close();
      } finally {
        gpu.destroy();
      }
    };
    return server;
  } catch (error) {
    gpu.destroy();
    throw error;
  }
}

/** Client `client` of `server`'s federation, on its own device (with its own examples if given). */
export async function client(
  server: { url: string; token: string },
  id: number,
  retrySeconds = 10,
  examples?: readonly Example[],
): Promise<ClientSummary> {
  const gpu = await Gpu.create();
  try {
    return await runClient({
      server: server.url,
      token: server.token,
      client: id,
      gpu,
      retrySeconds,
      ...(examples ? { examples } : {}),
    });
  } finally {
    gpu.destroy();
  }
}

/**
 * A federation of `spec` on loopback with every client of its suite, each a
 * Deno client on its own device (client i with `examples[i]` when given):
 * the server's result, the clients' summaries and the server's wire log.
 */
export async function federate(
  spec: FederationSpec,
  examples: Readonly<Record<number, readonly Example[]>> = {},
): Promise<
  { result: SimulationResult; summaries: ClientSummary[]; wire: readonly WireTransfer[] }
> {
  const server = await startServer(spec);
  try {
    const running = server.run();
    const summaries = await Promise.all(
      specClients(spec).map((_, id) => client(server, id, 10, examples[id])),
    );
    return { result: await running, summaries, wire: server.wire };
  } finally {
    await server.close();
  }
}

/** The simulator's run of `spec`: the same model, algorithm, clients (or `clients`) and evaluation. */
export async function simulated(
  spec: FederationSpec,
  clients: readonly ClientData[] = specClients(spec),
): Promise<SimulationResult> {
  const gpu = await Gpu.create();
  const model = await specModel(gpu, spec);
  const algorithm = specAlgorithm(spec);
  try {
    return await simulate({
      model,
      algorithm,
      clients,
      rounds: spec.rounds,
      seed: spec.seed,
      participation: { fraction: spec.fraction },
      evaluation: { sequences: specEvaluation(spec, model) },
    });
  } finally {
    algorithm.destroy?.();
    model.destroy();
    gpu.destroy();
  }
}

/** A WebSocket to `server` that records every frame it receives. */
export class RawSocket {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<CloseEvent>;
  readonly opened: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(server: { url: string }) {
    const url = new URL("/federation", server.url);
    url.protocol = "ws:";
    this.socket = new WebSocket(url);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve) => (this.socket.onopen = () => resolve()));
    this.closed = new Promise((resolve) => (this.socket.onclose = resolve));
    this.socket.onmessage = (event) => {
      this.frames.push(decodeFrame(new Uint8Array(event.data as ArrayBuffer)));
      for (const wake of this.#waiters.splice(0)) wake();
    };
  }

  /** The first received frame that `match` accepts, waiting up to `seconds`. */
  async next(match: (frame: Frame) => boolean, seconds = 30): Promise<Frame> {
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const found = this.frames.find(match);
      if (found) {
        this.frames.splice(this.frames.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    throw new Error(`No matching frame within ${seconds} s; received ${this.frames.length}`);
  }

  send(bytes: Uint8Array | string): void {
    this.socket.send(bytes);
  }
}
