/**
 * A real federation, beside the simulation of `mod.ts`: a server and
 * clients — Deno processes and browser tabs — over HTTP and WebSocket, on
 * the same algorithms and WGSL kernels (`deno task serve` and `deno task
 * client` are the command lines over these; README "Real federation").
 * The frames and each algorithm's payloads are documented byte for byte in
 * src/federation/wire.ts and src/federation/codecs.ts. Importable by URL
 * like `mod.ts`.
 *
 * @example
 * ```ts
 * import { exampleSpec, FederationServer, runClient } from "./federation.ts";
 * import { Gpu } from "./mod.ts";
 * const spec = { ...exampleSpec("gsm8k-like", "ferret"), rounds: 1 };
 * const gpu = await Gpu.create();
 * const server = await FederationServer.start({ spec, gpu, port: 0 });
 * const running = server.run();
 * const clients = await Promise.all([0, 1, 2].map(async (client) => {
 *   const own = await Gpu.create();
 *   const summary = await runClient({ server: server.url, token: server.token, client, gpu: own });
 *   own.destroy();
 *   return summary;
 * }));
 * const { records } = await running;
 * console.log(records[0]!.extra.hashAgreeing, clients[0]!.trained); // 3 [ 1 ]
 * await server.close();
 * gpu.destroy();
 * ```
 *
 * @module
 */

export {
  FederationServer,
  type ServerOptions,
  type WireTransfer,
} from "./src/federation/server.ts";
export {
  type ClientOptions,
  type ClientStatus,
  type ClientSummary,
  fetchSpec,
  runClient,
} from "./src/federation/client.ts";
export {
  EXAMPLE_ALGORITHMS,
  type ExampleAlgorithm,
  exampleSpec,
  type FederationSpec,
  validateSpec,
} from "./src/federation/spec.ts";
export { codecFor, type WireCodec } from "./src/federation/codecs.ts";
export {
  decodeFrame,
  encodeFrame,
  type Frame,
  MessageKind,
  ROUND_FRAMING_DOWN,
  ROUND_FRAMING_UP,
  WireError,
} from "./src/federation/wire.ts";
