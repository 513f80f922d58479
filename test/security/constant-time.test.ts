/**
 * The PKCE verifier check compares digests in constant time. Tested by
 * structure, not by the clock (a timing test would be flaky):
 *
 * - the work done (which digests, of what lengths) is the same whether the
 *   verifier is right, wrong in its first character or wrong in its last;
 * - what is compared is a pair of fixed-length SHA-256 digests of the two
 *   challenges, never the strings themselves;
 * - the byte loop accumulates every difference and never leaves early, and
 *   a difference in any single byte, first to last, is caught.
 *
 * @see RFC 7636 §4.6
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { computeS256Challenge, generateCode, verifyPKCE } from '../../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Records every digest call's algorithm and input length while `run` runs. */
async function digestCalls(run: () => Promise<unknown>): Promise<string[]> {
  const calls: string[] = [];
  const real = crypto.subtle.digest.bind(crypto.subtle);
  const spy = vi.spyOn(crypto.subtle, 'digest').mockImplementation(async (algorithm, data) => {
    calls.push(`${String(algorithm)}:${(data as ArrayBufferView | ArrayBuffer).byteLength}`);
    return real(algorithm, data);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return calls;
}

function mutateAt(value: string, index: number): string {
  const chars = [...value];
  chars[index] = chars[index] === 'A' ? 'B' : 'A';
  return chars.join('');
}

/** The body of the first `for` loop in a function's source, braces matched. */
function firstLoopBody(source: string): string {
  const start = source.indexOf('for (');
  expect(start, 'a byte loop').toBeGreaterThanOrEqual(0);
  const open = source.indexOf('{', source.indexOf(')', start));
  const semicolonBody = source.indexOf(';', source.indexOf(')', start));
  // A loop without braces: its body runs to the first ';' after the header.
  if (semicolonBody !== -1 && (open === -1 || semicolonBody < open)) return source.slice(source.indexOf(')', start) + 1, semicolonBody + 1);
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '{') depth++;
    if (source[i] === '}' && --depth === 0) return source.slice(open + 1, i);
  }
  throw new Error('unbalanced loop body');
}

describe('constant-time comparison of PKCE digests', () => {
  it('does the same digest work for a right verifier and one wrong in its first or last character', async () => {
    const verifier = generateCode();
    const challenge = await computeS256Challenge(verifier);
    const cases = [verifier, mutateAt(verifier, 0), mutateAt(verifier, verifier.length - 1), generateCode()];
    const traces: string[][] = [];
    const results: boolean[] = [];
    for (const candidate of cases) {
      traces.push(await digestCalls(async () => results.push(await verifyPKCE(candidate, challenge))));
    }
    expect(results).toEqual([true, false, false, false]);
    // The verifier's digest, then one digest of each challenge: 32-byte values compared, whatever the input.
    expect(traces[0]).toEqual(['SHA-256:43', 'SHA-256:43', 'SHA-256:43']);
    for (const trace of traces) expect(trace).toEqual(traces[0]);
  });

  it('hashes both challenges before comparing, so a stored challenge wrong in its first or last character costs the same', async () => {
    const verifier = generateCode();
    const challenge = await computeS256Challenge(verifier);
    const first = await digestCalls(() => verifyPKCE(verifier, mutateAt(challenge, 0)));
    const last = await digestCalls(() => verifyPKCE(verifier, mutateAt(challenge, 42)));
    const right = await digestCalls(() => verifyPKCE(verifier, challenge));
    expect(first).toEqual(right);
    expect(last).toEqual(right);
  });

  it('catches a difference in any single byte of the compared digests, first to last', async () => {
    const verifier = generateCode();
    const challenge = await computeS256Challenge(verifier);
    const base = new Uint8Array(32).fill(7);
    for (let position = 0; position < 32; position++) {
      const other = base.slice();
      other[position] = other[position]! ^ 1;
      let call = 0;
      const real = crypto.subtle.digest.bind(crypto.subtle);
      const spy = vi.spyOn(crypto.subtle, 'digest').mockImplementation(async (algorithm, data) => {
        call++;
        // Call 1 computes the S256 challenge; calls 2 and 3 make the two values compared.
        if (call === 2) return base.slice().buffer;
        if (call === 3) return other.slice().buffer;
        return real(algorithm, data);
      });
      expect(await verifyPKCE(verifier, challenge), `byte ${position}`).toBe(false);
      spy.mockRestore();
    }
  });

  it('accumulates differences over every byte and never returns from inside the loop', () => {
    const source = verifyPKCE.toString();
    const body = firstLoopBody(source.slice(source.indexOf('new Uint8Array')));
    expect(body).toMatch(/\|=/);
    expect(body).not.toMatch(/\breturn\b|\bbreak\b|\bthrow\b|&&|\|\||\?/);
    // The strings are never compared directly.
    expect(source).not.toMatch(/computed\s*[!=]==?\s*challenge|challenge\s*[!=]==?\s*computed|localeCompare/);
  });

  it("the example server compares resource-server secrets the same way", async () => {
    const app = await readFile(new URL('../../examples/app.ts', import.meta.url), 'utf8');
    const start = app.indexOf('async function sameSecret');
    expect(start).toBeGreaterThanOrEqual(0);
    const fn = app.slice(start, app.indexOf('\n}\n', start));
    expect(fn).toMatch(/crypto\.subtle\.digest\('SHA-256'/);
    const body = firstLoopBody(fn);
    expect(body).toMatch(/\|=/);
    expect(body).not.toMatch(/\breturn\b|\bbreak\b|\bthrow\b|&&|\|\||\?/);
    expect(fn).not.toMatch(/presented\s*[!=]==?\s*expected/);
  });
});
