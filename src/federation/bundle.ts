/**
 * The browser client's module as one script (src/federation/browser.ts
 * and everything it imports, kernels included), made with Deno's own
 * bundler (`deno bundle --platform browser`, written to stdout: nothing
 * touches the disk).
 *
 * @module
 */

/** Bundles the browser client; needs `--allow-run` (it runs `deno bundle`). */
export async function bundleBrowserClient(): Promise<string> {
  const entry = new URL("./browser.ts", import.meta.url);
  if (entry.protocol !== "file:") {
    throw new TypeError(
      `Cannot bundle the browser client from ${entry.href}: it needs a local checkout`,
    );
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", entry.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const script = new TextDecoder().decode(output.stdout);
  if (!output.success || script.length === 0) {
    throw new Error(
      `Cannot bundle the browser client: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
  return script;
}
