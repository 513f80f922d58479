import { describe } from 'vitest';
import { flowSuite } from './flow-suite.js';
import { nodeServer } from './targets.js';

describe('example authorization server over HTTP, started as by npm start', () => {
  flowSuite(() => nodeServer());
});
