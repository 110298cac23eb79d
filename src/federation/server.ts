/**
 * The federation server (`deno task serve`): HTTP and WebSocket on
 * `Deno.serve`, running the simulator's round (src/fl/simulator.ts) with
 * the clients' work done by remote clients (src/federation/client.ts):
 *
 * - `GET /spec` (with the token as `Authorization: Bearer <token>`): the
 *   federation's spec (src/federation/spec.ts), for a client to build its
 *   model, algorithm and data; `GET /status`: the round and who is joined;
 *   `GET /federation`: the WebSocket every client joins through; `GET /`
 *   and `/client.js`: the browser client's page and script, when given
 *   (src/federation/browser.ts).
 * - A client joins with the token the server issued and its client index;
 *   a socket that sends anything else first, or nothing within
 *   `joinSeconds`, is refused with an `error` frame and closed.
 * - Rounds start once every client of the spec has joined once. Each
 *   round, the server samples as the simulator does, sends every client
 *   joined since the last round a `welcome` with the global model, asks
 *   each sampled client to `train`, and waits up to `deadlineSeconds` for
 *   its `upload`: a client that is gone, late, or sends a malformed upload
 *   (src/federation/codecs.ts refuses it) is left out of the aggregate and
 *   counted, as the simulator drops a non-finite update. The aggregate is
 *   the algorithm's own; the broadcast goes to every joined client, and
 *   each answers with the hash of its model, checked against the server's
 *   (`extra.hashAgreeing`, `extra.hashDisagreeing` in the round's record; a
 *   client that disagrees is sent the whole model again next round).
 * - With a checkpoint store the server saves after every round; a
 *   restarted server resumes from the last finished round once the clients
 *   have joined again (they reconnect by themselves).
 * - Every frame of a round is counted, framing included, per client and
 *   direction ({@linkcode FederationServer.wire}), and the round's totals
 *   are in its record (`extra.wireUp`, `extra.wireDown`, and
 *   `extra.wireWelcome` for whole models sent to new or resynced clients).
 *
 * Messages that break the protocol — malformed, oversized, out of round,
 * unauthenticated — are answered with an `error` frame saying why and
 * never stop a round. Plain HTTP only: put TLS in front with a reverse
 * proxy (README, "Real federation").
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { GpuVector } from "../gpu/vector.ts";
import type { Transformer } from "../model/transformer.ts";
import type { CheckpointStore } from "../fl/run_checkpoint.ts";
import { type RoundRecord, simulate, type SimulationResult } from "../fl/simulator.ts";
import type {
  Aggregation,
  ClientData,
  ClientOutcome,
  ClientWork,
  FederatedAlgorithm,
  MessageSize,
  RoundInfo,
  RunStreams,
} from "../fl/types.ts";
import { codecFor, type WireCodec } from "./codecs.ts";
import { CLIENT_PAGE } from "./page.ts";
import {
  type FederationSpec,
  specAlgorithm,
  specClients,
  specEvaluation,
  specModel,
} from "./spec.ts";
import {
  ACK_BYTES,
  concatBytes,
  decodeFrame,
  encodeFrame,
  type Frame,
  HEADER_BYTES,
  hex,
  kindName,
  MAX_JSON_BYTES,
  MessageKind,
  modelHash,
  UPLOAD_PREFIX_BYTES,
  WireError,
} from "./wire.ts";

/** Seconds a client has to upload and to acknowledge, unless the options say otherwise. */
const DEADLINE_SECONDS = 120;

/** Options of {@linkcode FederationServer.start}. */
export interface ServerOptions {
  /** What the federation runs. */
  readonly spec: FederationSpec;
  /** The device the server aggregates and evaluates on. */
  readonly gpu: Gpu;
  /** Port (default 8787; 0: any free one, see {@linkcode FederationServer.url}). */
  readonly port?: number;
  /** Interface (default 127.0.0.1; 0.0.0.0 for every one). */
  readonly hostname?: string;
  /** The join token (default: 128 random bits in hex, printed by the CLI). */
  readonly token?: string;
  /** Saves after every round and resumes from what it holds. */
  readonly checkpoint?: CheckpointStore;
  /** Seconds a sampled client has to upload, and every client to acknowledge (default 120). */
  readonly deadlineSeconds?: number;
  /** Seconds a new socket has to join (default 10). */
  readonly joinSeconds?: number;
  /** Where progress lines go (default nowhere). */
  readonly log?: (line: string) => void;
  /** Called with each round's record. */
  readonly onRound?: (record: RoundRecord) => void | Promise<void>;
  /**
   * The browser client's script (src/federation/bundle.ts): with it the
   * server serves the client page at `/?token=<token>&client=<i>`.
   */
  readonly browserClient?: string;
}

/** Bytes of one round's frames between the server and one client, framing included. */
export interface WireTransfer {
  /** Round. */
  readonly round: number;
  /** Client index. */
  readonly client: number;
  /** `up`: client → server; `down`: server → client. */
  readonly direction: "up" | "down";
  /** Frame bytes. */
  readonly bytes: number;
  /**
   * A `welcome`: the whole model, sent at the start of `round` to a client
   * that joined since the last round or whose hash disagreed (beside the
   * round's algorithm messages, which the ledger counts).
   */
  readonly welcome?: true;
}

/** Whether two tokens are equal, in time that does not depend on where they differ. */
function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let difference = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return difference === 0;
}

/** Σ bytes of some transfers. */
function sum(transfers: readonly WireTransfer[]): number {
  return transfers.reduce((s, t) => s + t.bytes, 0);
}

/** A joined client's connection. */
interface Session {
  readonly socket: WebSocket;
  readonly client: number;
  /** Whether it holds the server's global model (sent in a `welcome`). */
  synced: boolean;
  /** Frames awaited from it, by `<kind>:<round>`. */
  readonly waiting: Map<string, (frame: Frame | null) => void>;
}

/**
 * A federation server; start it with {@linkcode FederationServer.start},
 * then {@linkcode FederationServer.run} runs the rounds once every client
 * has joined.
 *
 * @example
 * ```ts
 * import { FederationServer } from "./server.ts";
 * import { runClient } from "./client.ts";
 * import { exampleSpec } from "./spec.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const spec = { ...exampleSpec("gsm8k-like", "fedavg"), rounds: 2 };
 * const gpu = await Gpu.create();
 * const server = await FederationServer.start({ spec, gpu, port: 0 });
 * const running = server.run();
 * await Promise.all([0, 1, 2].map(async (client) => {
 *   const own = await Gpu.create();
 *   await runClient({ server: server.url, token: server.token, client, gpu: own });
 *   own.destroy();
 * }));
 * const { records } = await running;
 * console.log(records.map((r) => r.extra.hashAgreeing), server.wire.length > 0); // [ 3, 3 ] true
 * await server.close();
 * gpu.destroy();
 * ```
 */
export class FederationServer {
  /** `http://<host>:<port>`. */
  readonly url: string;
  /** The token clients join with. */
  readonly token: string;
  /** The federation's spec. */
  readonly spec: FederationSpec;
  readonly #options: ServerOptions;
  readonly #model: Transformer;
  readonly #algorithm: FederatedAlgorithm;
  readonly #clients: number;
  readonly #samples: (number | undefined)[];
  readonly #sessions = new Map<number, Session>();
  readonly #wire: WireTransfer[] = [];
  readonly #http: Deno.HttpServer;
  #codec: WireCodec | null = null;
  #closed = false;
  #closeNow!: () => void;
  readonly #closing = new Promise<void>((resolve) => (this.#closeNow = resolve));
  #running: Promise<SimulationResult> | null = null;
  #round = 0;
  #joinedAll!: () => void;
  readonly #allJoined = new Promise<void>((resolve) => (this.#joinedAll = resolve));

  private constructor(
    options: ServerOptions,
    model: Transformer,
    clients: number,
    listening: { http: Deno.HttpServer; url: string; token: string },
  ) {
    this.#options = options;
    this.spec = options.spec;
    this.#model = model;
    this.#algorithm = specAlgorithm(options.spec);
    this.#clients = clients;
    this.#samples = Array.from({ length: clients }, () => undefined);
    this.#http = listening.http;
    this.url = listening.url;
    this.token = listening.token;
  }

  /** Builds the model and starts listening; {@linkcode FederationServer.run} runs the rounds. */
  static async start(options: ServerOptions): Promise<FederationServer> {
    const deadline = options.deadlineSeconds ?? DEADLINE_SECONDS;
    if (!(deadline > 0)) throw new RangeError(`Cannot wait ${deadline} s for uploads`);
    const token = options.token ?? hex(crypto.getRandomValues(new Uint8Array(16)));
    if (token.length < 16) {
      throw new RangeError("Cannot serve with a token shorter than 16 characters");
    }
    const model = await specModel(options.gpu, options.spec);
    const clients = specClients(options.spec).length;
    let server: FederationServer | null = null;
    const http = Deno.serve({
      port: options.port ?? 8787,
      hostname: options.hostname ?? "127.0.0.1",
      onListen: () => {},
    }, (request) => server!.#respond(request));
    const { hostname, port } = http.addr as Deno.NetAddr;
    server = new FederationServer(options, model, clients, {
      http,
      url: `http://${hostname}:${port}`,
      token,
    });
    return server;
  }

  /** Every round's frames so far, per client and direction. */
  get wire(): readonly WireTransfer[] {
    return this.#wire;
  }

  /** The clients N of the spec. */
  get clients(): number {
    return this.#clients;
  }

  /** The clients joined now. */
  get joined(): number[] {
    return [...this.#sessions.keys()].sort((a, b) => a - b);
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }

  #respond(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (path === "/federation") {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("Join with a WebSocket\n", { status: 426 });
      }
      const { socket, response } = Deno.upgradeWebSocket(request);
      this.#accept(socket);
      return response;
    }
    if (path === "/spec") {
      if (!sameToken(request.headers.get("authorization") ?? "", `Bearer ${this.token}`)) {
        return new Response(
          "Cannot send the spec: the token is missing or not this federation's\n",
          {
            status: 401,
          },
        );
      }
      return Response.json(this.spec);
    }
    const script = this.#options.browserClient;
    if (script !== undefined && path === "/") {
      return new Response(CLIENT_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (script !== undefined && path === "/client.js") {
      return new Response(script, {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      });
    }
    if (path === "/status") {
      return Response.json({
        round: this.#round,
        rounds: this.spec.rounds,
        clients: this.#clients,
        joined: this.joined,
      });
    }
    return new Response("Not found: try /, /status, /spec or /federation\n", { status: 404 });
  }

  /** A new socket: it must join first, within `joinSeconds`. */
  #accept(socket: WebSocket): void {
    socket.binaryType = "arraybuffer";
    let session: Session | null = null;
    const refuse = (message: string) => {
      this.#sendError(socket, this.#round, message);
      socket.close(4401, "refused");
    };
    const timer = setTimeout(() => {
      if (!session) refuse(`Cannot join: no join frame within ${this.#joinSeconds} s`);
    }, this.#joinSeconds * 1000);
    socket.onmessage = (event) => {
      if (!(event.data instanceof ArrayBuffer)) {
        if (session) {
          this.#sendError(socket, this.#round, "Text frames are not part of the protocol");
        } else refuse("Cannot join: text frames are not part of the protocol");
        return;
      }
      const data = new Uint8Array(event.data);
      try {
        if (session) this.#receive(session, data);
        else {
          session = this.#join(socket, data);
          clearTimeout(timer);
        }
      } catch (error) {
        const message = error instanceof WireError || error instanceof RangeError
          ? error.message
          : String(error);
        if (session) this.#sendError(socket, this.#round, `Cannot accept the frame: ${message}`);
        else refuse(`Cannot join: ${message}`);
      }
    };
    socket.onclose = () => {
      clearTimeout(timer);
      if (!session) return;
      if (this.#sessions.get(session.client) === session) {
        this.#sessions.delete(session.client);
        this.#log(`client ${session.client} left`);
      }
      for (const resolve of session.waiting.values()) resolve(null);
      session.waiting.clear();
    };
    socket.onerror = () => {}; // a reset connection is a close; it must not reach the process
  }

  get #joinSeconds(): number {
    return this.#options.joinSeconds ?? 10;
  }

  get #deadlineSeconds(): number {
    return this.#options.deadlineSeconds ?? DEADLINE_SECONDS;
  }

  /** A join frame: token, client index in range, its sample count. */
  #join(socket: WebSocket, data: Uint8Array): Session {
    if (data.length > HEADER_BYTES + MAX_JSON_BYTES) {
      throw new WireError(`a join frame of ${data.length} bytes is too long`);
    }
    const frame = decodeFrame(data);
    if (frame.kind !== MessageKind.join) {
      throw new WireError(`the first frame must be a join, not ${kindName(frame.kind)}`);
    }
    const { token, client, samples } = frame.json;
    if (typeof token !== "string" || !sameToken(token, this.token)) {
      throw new WireError("the token is not this federation's");
    }
    if (
      !Number.isSafeInteger(client) || (client as number) < 0 || (client as number) >= this.#clients
    ) {
      throw new WireError(`client ${client} is not one of 0 … ${this.#clients - 1}`);
    }
    if (!Number.isSafeInteger(samples) || (samples as number) < 1) {
      throw new WireError(`a client holds at least one sequence, not ${samples}`);
    }
    const id = client as number;
    const known = this.#samples[id];
    if (known !== undefined && known !== samples) {
      throw new WireError(`client ${id} joined before with ${known} sequences, now ${samples}`);
    }
    const previous = this.#sessions.get(id);
    if (previous) previous.socket.close(4409, "replaced by a new connection");
    const session: Session = { socket, client: id, synced: false, waiting: new Map() };
    this.#sessions.set(id, session);
    this.#samples[id] = samples as number;
    this.#log(`client ${id} joined (${samples} sequences)`);
    if (this.#samples.every((n) => n !== undefined)) this.#joinedAll();
    return session;
  }

  /** A joined client's frame: an awaited upload or ack of the current round. */
  #receive(session: Session, data: Uint8Array): void {
    const maxUpload = HEADER_BYTES + UPLOAD_PREFIX_BYTES + (this.#codec?.maxUploadBytes ?? 0);
    if (data.length > Math.max(maxUpload, HEADER_BYTES + MAX_JSON_BYTES)) {
      throw new WireError(
        `a frame of ${data.length} bytes exceeds the ${maxUpload} an upload may take`,
      );
    }
    const frame = decodeFrame(data);
    if (frame.kind === MessageKind.error) {
      this.#log(`client ${session.client} reports: ${frame.json.message}`);
      return;
    }
    if (frame.kind !== MessageKind.upload && frame.kind !== MessageKind.ack) {
      throw new WireError(`a client sends upload and ack frames, not ${kindName(frame.kind)}`);
    }
    if (!this.#codec) {
      throw new WireError(
        `no ${
          kindName(frame.kind)
        } of round ${frame.round} is awaited (the rounds have not started)`,
      );
    }
    if (frame.kind === MessageKind.upload && data.length > maxUpload) {
      throw new WireError(`an upload of ${data.length} bytes exceeds the ${maxUpload} allowed`);
    }
    if (frame.kind === MessageKind.ack && data.length !== ACK_BYTES) {
      throw new WireError(`an ack is ${ACK_BYTES} bytes, not ${data.length}`);
    }
    const key = `${frame.kind}:${frame.round}`;
    const resolve = session.waiting.get(key);
    if (!resolve) {
      throw new WireError(
        `no ${
          kindName(frame.kind)
        } of round ${frame.round} is awaited (the server is in round ${this.#round})`,
      );
    }
    session.waiting.delete(key);
    this.#tally(frame.round, session.client, "up", data.length);
    resolve(frame);
  }

  #tally(round: number, client: number, direction: "up" | "down", bytes: number, welcome = false) {
    this.#wire.push({ round, client, direction, bytes, ...(welcome ? { welcome: true } : {}) });
  }

  #sendError(socket: WebSocket, round: number, message: string): void {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(encodeFrame(MessageKind.error, round, { message }));
    }
  }

  /**
   * Sends a frame to a session; counted on the wire as `round`'s (a
   * welcome's when `count` says so), or not at all (`done`).
   */
  #send(
    session: Session,
    frame: Uint8Array,
    round: number,
    count: "round" | "welcome" | false,
  ): boolean {
    if (session.socket.readyState !== WebSocket.OPEN) return false;
    session.socket.send(frame);
    if (count) this.#tally(round, session.client, "down", frame.length, count === "welcome");
    return true;
  }

  /** The next `kind` frame of `round` from a session, or null if it leaves or the deadline passes. */
  #await(session: Session, kind: MessageKind, round: number): Promise<Frame | null> {
    return new Promise((resolve) => {
      const key = `${kind}:${round}`;
      const timer = setTimeout(() => {
        session.waiting.delete(key);
        resolve(null);
      }, this.#deadlineSeconds * 1000);
      session.waiting.set(key, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /**
   * Sends the global model after round `round − 1` to every joined client
   * that does not hold it, counted as `round`'s welcomes.
   */
  async #welcome(global: GpuVector, round: number): Promise<void> {
    const behind = [...this.#sessions.values()].filter((s) => !s.synced);
    if (behind.length === 0) return;
    const values = await this.#codec!.parameters(global);
    const frame = encodeFrame(
      MessageKind.welcome,
      round - 1,
      { round: round - 1 },
      concatBytes(values),
    );
    for (const session of behind) {
      if (this.#send(session, frame, round, "welcome")) session.synced = true;
    }
  }

  /** Client work, remotely: `train` to each sampled client, its upload back (or null). */
  async #train(work: ClientWork): Promise<ClientOutcome<unknown>[]> {
    if (this.#closed) throw new Error(`Cannot run round ${work.round}: the server was closed`);
    const codec = this.#codec!;
    this.#round = work.round;
    this.#leftOut = 0;
    await this.#welcome(work.global, work.round);
    const frame = encodeFrame(MessageKind.train, work.round);
    const frames = await Promise.all(work.clients.map((client) => {
      const session = this.#sessions.get(client.id);
      return session?.synced && this.#send(session, frame, work.round, "round")
        ? this.#await(session, MessageKind.upload, work.round)
        : Promise.resolve(null);
    }));
    return frames.map((upload, slot): ClientOutcome<unknown> => {
      const id = work.clients[slot]!.id;
      const leaveOut = (why: string): ClientOutcome<unknown> => {
        this.#leftOut++;
        this.#log(`round ${work.round}: client ${id} left out: ${why}`);
        const socket = this.#sessions.get(id)?.socket;
        if (socket && upload) {
          this.#sendError(socket, work.round, `Cannot accept the upload: ${why}`);
        }
        return { upload: null, loss: NaN };
      };
      if (!upload) return leaveOut("it sent nothing in time");
      if (upload.payload.length < UPLOAD_PREFIX_BYTES) return leaveOut("it carries no loss");
      const prefix = new DataView(upload.payload.buffer, upload.payload.byteOffset, 8);
      const loss = prefix.getFloat32(0, true);
      const updateNorm = prefix.getFloat32(4, true);
      const message = upload.payload.subarray(UPLOAD_PREFIX_BYTES);
      if (message.length === 0) return { upload: null, loss, updateNorm }; // its update was not finite
      try {
        return { upload: codec.decodeUpload(message, id, slot), loss, updateNorm };
      } catch (error) {
        return leaveOut((error as Error).message);
      }
    });
  }

  /** Sampled clients of the current round left out: gone, late or refused. */
  #leftOut = 0;

  /** The algorithm's broadcast onto the server's model, then to every client, and their hashes. */
  async #apply(
    broadcast: unknown,
    global: GpuVector,
    round: RoundInfo,
  ): Promise<Readonly<Record<string, number>>> {
    const codec = this.#codec!;
    const extra = await this.#algorithm.apply(broadcast, global, round);
    const payload = await codec.encodeBroadcast(broadcast, global);
    const expected = hex(await modelHash(await codec.parameters(global)));
    const frame = encodeFrame(MessageKind.broadcast, round.round, null, payload);
    const acks = [...this.#sessions.values()]
      .filter((s) => s.synced && this.#send(s, frame, round.round, "round"))
      .map(async (session) => ({
        session,
        ack: await this.#await(session, MessageKind.ack, round.round),
      }));
    let agreeing = 0;
    let disagreeing = 0;
    for (const { session, ack } of await Promise.all(acks)) {
      if (!ack) continue;
      if (hex(ack.payload) === expected) {
        agreeing++;
      } else {
        disagreeing++;
        session.synced = false;
        this.#sendError(
          session.socket,
          round.round,
          `After round ${round.round} your model's hash ${hex(ack.payload)} is not the server's ` +
            `${expected}: the whole model comes again next round`,
        );
      }
    }
    const mine = this.#wire.filter((t) => t.round === round.round);
    return {
      ...extra,
      hashAgreeing: agreeing,
      hashDisagreeing: disagreeing,
      leftOut: this.#leftOut,
      wireUp: sum(mine.filter((t) => t.direction === "up")),
      wireDown: sum(mine.filter((t) => t.direction === "down" && !t.welcome)),
      wireWelcome: sum(mine.filter((t) => t.welcome)),
    };
  }

  /**
   * Waits until every client of the spec has joined once, then runs (or
   * resumes) the rounds; tells every client when the federation is over.
   */
  run(): Promise<SimulationResult> {
    if (this.#running) throw new TypeError("Cannot run the federation twice");
    this.#running = this.#run();
    return this.#running;
  }

  async #run(): Promise<SimulationResult> {
    this.#log(`waiting for ${this.#clients} clients to join ${this.url}/federation`);
    await Promise.race([this.#allJoined, this.#closing]);
    if (this.#closed) throw new Error("Cannot run the federation: the server was closed");
    const clients: ClientData[] = this.#samples.map((samples, id) => ({
      id,
      sequences: [],
      samples: samples!,
    }));
    const result = await simulate({
      model: this.#model,
      algorithm: this.#remote(),
      clients,
      rounds: this.spec.rounds,
      seed: this.spec.seed,
      participation: { fraction: this.spec.fraction },
      evaluation: { sequences: specEvaluation(this.spec, this.#model) },
      clientBatch: clients.length,
      ...(this.#options.checkpoint ? { checkpoint: this.#options.checkpoint } : {}),
      onRound: async (record) => {
        this.#log(
          `round ${record.round}/${this.spec.rounds}: eval loss ${record.evalLoss?.toFixed(4)}, ` +
            `${
              record.clients.length - record.dropped.length
            } of ${record.clients.length} clients ` +
            `aggregated, ${record.extra.hashAgreeing ?? 0} hashes agree`,
        );
        await this.#options.onRound?.(record);
      },
    });
    const last = result.records.at(-1);
    const done = encodeFrame(MessageKind.done, this.spec.rounds, {
      rounds: this.spec.rounds,
      evalLoss: last?.evalLoss ?? null,
    });
    for (const session of this.#sessions.values()) this.#send(session, done, 0, false);
    return result;
  }

  /** The algorithm as the simulator sees it: the spec's, with the client work done remotely. */
  #remote(): FederatedAlgorithm {
    const inner = this.#algorithm;
    return {
      name: inner.name,
      id: inner.id,
      trains: inner.trains,
      options: inner.options,
      ...(inner.properties ? { properties: inner.properties } : {}),
      setup: async (model: Transformer, run: RunStreams) => {
        await inner.setup(model, run);
        this.#codec?.destroy();
        this.#codec = codecFor(inner, model);
      },
      train: (work: ClientWork) => this.#train(work),
      aggregator: (round: RoundInfo): Aggregation<unknown, unknown> => inner.aggregator(round),
      apply: (broadcast, global, round) => this.#apply(broadcast, global, round),
      uploadSize: (upload: unknown): MessageSize => inner.uploadSize(upload),
      broadcastSize: (broadcast: unknown): MessageSize => inner.broadcastSize(broadcast),
      ...(inner.saveState ? { saveState: () => inner.saveState!() } : {}),
      ...(inner.loadState ? { loadState: (state: Uint8Array) => inner.loadState!(state) } : {}),
    };
  }

  /** Stops listening, closes every connection and frees the model (a running `run` stops). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closeNow();
    for (const session of this.#sessions.values()) session.socket.close(1001, "server closing");
    this.#sessions.clear();
    await this.#http.shutdown();
    // A running federation stops at its next round (its waits end with the connections).
    await this.#running?.catch(() => {});
    this.#codec?.destroy();
    this.#algorithm.destroy?.();
    this.#model.destroy();
  }
}
