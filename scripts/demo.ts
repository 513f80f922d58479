/**
 * `npm run demo`: the package's story on an embedded PostgreSQL started for
 * the occasion and removed afterwards.
 */
import { startPostgres } from '../test/support/postgres.js';
import { oauthStory } from './demo-oauth.js';
import { storeStory } from './demo-store.js';

const log = (line: string): void => console.log(line);
const server = await startPostgres();
let failed = false;
try {
  log(`PostgreSQL started on 127.0.0.1:${server.port}\n`);
  await storeStory(log, await server.createDatabase('demo_store'));
  log('');
  await oauthStory(log, await server.createDatabase('demo_oauth'));
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await server.destroy();
}
process.exitCode = failed ? 1 : 0;
