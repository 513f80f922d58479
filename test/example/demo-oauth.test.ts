import { expect, it } from 'vitest';
import { oauthStory } from '../../scripts/demo-oauth.js';
import { createEmptyDatabase } from '../support/database.js';

it('tells the OAuth story on an empty database, creating its tables, and never prints a whole code or token', async () => {
  const lines: string[] = [];
  await oauthStory((line) => lines.push(line), await createEmptyDatabase('oauth_story'));
  const text = lines.join('\n');
  expect(text).toContain('-> 200 access_token=');
  expect(text).toContain('-> 400 invalid_grant');
  expect(text).toMatch(/revoked 1 token\(s\) of family/);
  expect(text).toContain('-> active=false');
  expect(text).toMatch(/-> 1 access token, 49 invalid_grant/);
  expect(text).toContain('2 SQL statements');
  // Secrets are shown by their first characters only.
  expect(text).not.toMatch(/[A-Za-z0-9_-]{43}/);
});
