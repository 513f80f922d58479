/** The size budget of the package's own code, enforced on every run, not only when someone runs the report. */
import { describe, expect, it } from 'vitest';
import { measureSizes, PACKAGE_BUDGET_BYTES } from '../../scripts/size.js';

describe('size', () => {
  it('the package’s own code stays within 6 KB minified and gzipped; the Worker bundle is measured', async () => {
    const [own, worker] = await measureSizes();
    expect(own!.gzipped).toBeGreaterThan(1024);
    expect(own!.gzipped).toBeLessThanOrEqual(PACKAGE_BUDGET_BYTES);
    // The Worker bundle holds the package and more: the figure measures what it claims.
    expect(worker!.gzipped).toBeGreaterThan(own!.gzipped);
  });
});
