/**
 * Bundles the test Worker, or the package on its own, with esbuild the way a
 * Worker or Edge deployment would: for a neutral platform, with no Node
 * built-ins available to resolve.
 */
import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

export interface Bundle {
  code: string;
  metafile: Metafile;
}

/** Conditions the edge runtimes resolve package exports with. */
const EDGE_CONDITIONS = ['workerd', 'worker', 'edge-light', 'browser', 'import', 'default'];

/** What to bundle: an entry file, or a small entry module given as text (resolved from the repository root). */
export type BundleInput = { entry: string } | { contents: string };

/**
 * Bundles for an edge runtime: a neutral platform, no Node built-ins to
 * resolve; `esm` for a module Worker, `iife` for a script.
 */
export async function bundleForEdge(
  input: BundleInput,
  options: { format: 'esm' | 'iife'; minify?: boolean; external?: string[] },
): Promise<Bundle> {
  const result = await build({
    ...('entry' in input
      ? { entryPoints: [input.entry] }
      : { stdin: { contents: input.contents, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' as const } }),
    bundle: true,
    write: false,
    platform: 'neutral',
    format: options.format,
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: EDGE_CONDITIONS,
    external: options.external ?? [],
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile };
}

/** Bundles the Worker entry (`workerd` as an ES module, `edge` as a script). */
export function bundleWorker(target: 'workerd' | 'edge', options: { minify?: boolean } = {}): Promise<Bundle> {
  return bundleForEdge(
    { entry: fileURLToPath(new URL(`./worker/${target}.ts`, import.meta.url)) },
    { format: target === 'workerd' ? 'esm' : 'iife', ...options },
  );
}

/** Bundles the package's own code (`src/index.ts`) for a neutral platform, drizzle-orm left to the host. */
export function bundlePackage(options: { minify?: boolean } = {}): Promise<Bundle> {
  return bundleForEdge(
    { entry: fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
    { format: 'esm', external: ['drizzle-orm', 'drizzle-orm/*'], ...options },
  );
}
