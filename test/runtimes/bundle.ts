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

/** Bundles the Worker entry (`workerd` as an ES module, `edge` as a script). */
export async function bundleWorker(target: 'workerd' | 'edge', options: { minify?: boolean } = {}): Promise<Bundle> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`./worker/${target}.ts`, import.meta.url))],
    bundle: true,
    write: false,
    platform: 'neutral',
    format: target === 'workerd' ? 'esm' : 'iife',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: EDGE_CONDITIONS,
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile };
}

/** Bundles the package's own code (`src/index.ts`) for a neutral platform, drizzle-orm left to the host. */
export async function bundlePackage(options: { minify?: boolean } = {}): Promise<Bundle> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../../src/index.ts', import.meta.url))],
    bundle: true,
    write: false,
    platform: 'neutral',
    format: 'esm',
    target: 'es2022',
    external: ['drizzle-orm', 'drizzle-orm/*'],
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile };
}
