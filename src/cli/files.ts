/**
 * File output of the CLI: atomic writes (never a half-written CSV) and the
 * on-disk cell cache that lets an interrupted run resume.
 *
 * @module
 */

import type { ArtifactStore, CachedCell, CellCache, WorkClaims } from "../experiment/runner.ts";
import { sha256Hex } from "../experiment/hash.ts";

/**
 * Writes `text` to `path` atomically: into a temporary file in the same
 * folder, then renamed over the target (rename is atomic on POSIX).
 */
export function writeFileAtomic(path: string, text: string): Promise<void> {
  return writeBytesAtomic(path, new TextEncoder().encode(text));
}

/** Writes `bytes` to `path` atomically (temporary file, then rename). */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const slash = path.lastIndexOf("/");
  await Deno.mkdir(slash > 0 ? path.slice(0, slash) : ".", { recursive: true });
  const temporary = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Artifacts as files under a folder: `<dir>/<name>` (names may contain `/`). */
export class DirectoryArtifacts implements ArtifactStore {
  /** The artifact folder. */
  readonly dir: string;

  /** @param dir the folder (created on first write) */
  constructor(dir: string) {
    this.dir = dir;
  }

  #path(name: string): string {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(name) || name.split("/").includes("..")) {
      throw new RangeError(`Cannot store artifact "${name}": use letters, digits, . _ - and /`);
    }
    return `${this.dir}/${name}`;
  }

  /** The artifact called `name`, if stored. */
  async get(name: string): Promise<Uint8Array | undefined> {
    try {
      return await Deno.readFile(this.#path(name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** Stores an artifact atomically. */
  async set(name: string, bytes: Uint8Array): Promise<void> {
    await writeBytesAtomic(this.#path(name), bytes);
  }

  /** Removes an artifact (nothing happens when there is none). */
  async delete(name: string): Promise<void> {
    try {
      await Deno.remove(this.#path(name));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/** A cell cache with one JSON file per cell, named by the SHA-256 of its key. */
export class DirectoryCache implements CellCache {
  /** The cache folder. */
  readonly dir: string;

  /** @param dir the folder (created on first write) */
  constructor(dir: string) {
    this.dir = dir;
  }

  async #path(key: string): Promise<string> {
    return `${this.dir}/${(await sha256Hex(key)).slice(0, 32)}.json`;
  }

  /** The cached cell for `key`; a missing or unreadable entry is a miss. */
  async get(key: string): Promise<CachedCell | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(await this.#path(key));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    try {
      const cell = JSON.parse(text) as CachedCell;
      return cell.key === key ? cell : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores a finished cell atomically. */
  async set(cell: CachedCell): Promise<void> {
    await writeFileAtomic(await this.#path(cell.key), JSON.stringify(cell) + "\n");
  }
}

/**
 * A federated run's checkpoint as one file, replaced atomically after every
 * round (src/fl/run_checkpoint.ts), so a restarted process resumes from the
 * last finished round.
 */
export class FileCheckpointStore {
  /** The checkpoint file. */
  readonly path: string;

  /** @param path the file (its folder is created on first save) */
  constructor(path: string) {
    this.path = path;
  }

  /** The saved checkpoint, or null when there is none yet. */
  async load(): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  /** Replaces the checkpoint atomically. */
  save(checkpoint: Uint8Array): Promise<void> {
    return writeBytesAtomic(this.path, checkpoint);
  }
}

/**
 * Claims as files in a folder, one per name, each created only if absent
 * (atomic on a local disk): the jobs of one `deno task reproduce --jobs`
 * share the folder, and whoever creates a name's file first makes it.
 *
 * @example
 * ```ts
 * import { DirectoryClaims } from "./files.ts";
 * const dir = await Deno.makeTempDir();
 * const [a, b] = [new DirectoryClaims(dir), new DirectoryClaims(dir)];
 * console.log(await a.claim("runs/x"), await b.claim("runs/x"), await b.claim("runs/y")); // true false true
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirectoryClaims implements WorkClaims {
  /** The claims folder. */
  readonly dir: string;
  #made: Promise<void> | null = null;

  /** @param dir the folder (created on first claim) */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** Whether this is the first claim of `name` in the folder. */
  async claim(name: string): Promise<boolean> {
    await (this.#made ??= Deno.mkdir(this.dir, { recursive: true }));
    try {
      const path = `${this.dir}/${(await sha256Hex(name)).slice(0, 32)}`;
      (await Deno.open(path, { write: true, createNew: true })).close();
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      throw error;
    }
  }
}
