/**
 * Size report (`npm run size`): the package's own code, minified and
 * gzipped, against its budget, and the whole Worker bundle the runtime tests
 * run (package, drizzle-orm/neon-http and the Neon driver). Exits non-zero
 * when the package is over budget.
 */
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { bundlePackage, bundleWorker } from '../test/runtimes/bundle.js';

/** The package's own code, minified and gzipped, may not exceed this. */
export const PACKAGE_BUDGET_BYTES = 6 * 1024;

export interface SizeFigure {
  name: string;
  minified: number;
  gzipped: number;
  budget?: number;
}

function figure(name: string, code: string, budget?: number): SizeFigure {
  const bytes = Buffer.from(code, 'utf8');
  return { name, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, ...(budget ? { budget } : {}) };
}

/** Bundles and measures; drizzle-orm stays external for the package's own figure. */
export async function measureSizes(): Promise<SizeFigure[]> {
  const own = await bundlePackage({ minify: true });
  const worker = await bundleWorker('workerd', { minify: true });
  return [
    figure('attesto-drizzle (own code, drizzle-orm external)', own.code, PACKAGE_BUDGET_BYTES),
    figure('Worker bundle (package + drizzle-orm/neon-http + @neondatabase/serverless)', worker.code),
  ];
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KB`;

async function main(): Promise<void> {
  const figures = await measureSizes();
  let over = false;
  for (const f of figures) {
    const budget = f.budget === undefined ? '' : ` (budget ${kb(f.budget)}${f.gzipped > f.budget ? ', OVER' : ''})`;
    console.log(`${f.name}\n  minified ${kb(f.minified)}, min+gzip ${kb(f.gzipped)}${budget}`);
    if (f.budget !== undefined && f.gzipped > f.budget) over = true;
  }
  if (over) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
