/**
 * The browser client: the module the server's page (src/federation/page.ts)
 * runs, bundled for the browser by {@linkcode bundleBrowserClient}
 * (src/federation/bundle.ts). It is the Deno client (src/federation/client.ts)
 * on the browser's WebGPU: the same modules, the same WGSL kernels. The
 * page's address says which client it is (`/?token=<token>&client=<i>`);
 * the server is the page's own origin. The status view shows the round,
 * the loss, the bytes sent and received and the model's hash.
 *
 * @module
 */

import { Gpu } from "../gpu/gpu.ts";
import { type ClientStatus, runClient } from "./client.ts";

/** The few DOM calls the status view needs (Deno's types have no DOM). */
interface Page {
  readonly location: { readonly search: string; readonly origin: string };
  readonly document: {
    getElementById(id: string): { textContent: string | null } | null;
  };
}

const page = globalThis as unknown as Page;

function show(id: string, text: string): void {
  const element = page.document.getElementById(id);
  if (element) element.textContent = text;
}

function log(line: string): void {
  const element = page.document.getElementById("log");
  if (element) element.textContent = `${line}\n${element.textContent ?? ""}`.slice(0, 20_000);
}

function render(status: ClientStatus): void {
  show("round", String(status.round));
  show("trained", String(status.trained));
  show("loss", Number.isFinite(status.loss) ? status.loss.toFixed(4) : "–");
  show("sent", `${status.bytes.up} B`);
  show("received", `${status.bytes.down} B (+ ${status.bytes.welcome} B at joining)`);
  show("hash", status.hash ? `${status.hash.slice(0, 16)}…` : "–");
  show(
    "agreement",
    status.resyncs === 0
      ? "agrees with the server"
      : `re-sent ${status.resyncs}× after disagreeing`,
  );
  show("state", status.done ? "done" : "running");
}

const query = new URLSearchParams(page.location.search);
const token = query.get("token") ?? "";
const client = Number(query.get("client"));
try {
  if (!token || !Number.isInteger(client) || client < 0) {
    throw new Error("Open this page as /?token=<token>&client=<i>");
  }
  show("client", String(client));
  const gpu = await Gpu.create();
  show("adapter", `${gpu.info.description} (subgroups ${gpu.info.subgroups ? "on" : "off"})`);
  const summary = await runClient({
    server: page.location.origin,
    token,
    client,
    gpu,
    log,
    onStatus: render,
  });
  log(`done: trained in rounds ${summary.trained.join(", ")}; final eval loss ${summary.evalLoss}`);
  show("state", "done");
} catch (error) {
  show("state", `failed: ${(error as Error).message}`);
  log((error as Error).stack ?? String(error));
}
