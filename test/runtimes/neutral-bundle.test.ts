/**
 * `src/` uses no Node built-in: it bundles for esbuild's neutral platform,
 * where no built-in resolves, and the compiler sees no Node types.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePackage, bundleWorker, root } from './bundle.js';

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

function importedPaths(metafile: { outputs: Record<string, { imports: { path: string }[] }> }): string[] {
  return Object.values(metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
}

describe('runtime-neutral source', () => {
  it('src/index.ts bundles for a neutral platform, importing nothing but drizzle-orm', async () => {
    const { code, metafile } = await bundlePackage();
    expect(code.length).toBeGreaterThan(0);
    const imports = importedPaths(metafile);
    expect(imports.length).toBeGreaterThan(0);
    for (const path of imports) expect(path).toMatch(/^drizzle-orm(\/|$)/);
  });

  it('the whole Worker bundle (package, drizzle-orm/neon-http, Neon driver) imports no Node built-in', async () => {
    for (const target of ['workerd', 'edge'] as const) {
      const { metafile } = await bundleWorker(target);
      expect(importedPaths(metafile).filter((path) => nodeBuiltins.has(path))).toEqual([]);
    }
  });

  it('the neutral bundle would fail on a Node built-in (the check can fail)', async () => {
    await expect(
      build({
        stdin: { contents: "import { createHash } from 'crypto'; export const h = createHash;", resolveDir: root },
        bundle: true,
        write: false,
        platform: 'neutral',
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/Could not resolve "crypto"/);
  });

  it('src is compiled with no ambient types, so no Node global type-checks there', async () => {
    const tsconfig = JSON.parse(await readFile(join(root, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { types?: string[] };
      include: string[];
    };
    expect(tsconfig.compilerOptions.types).toEqual([]);
    expect(tsconfig.include).toEqual(['src']);
  });
});
