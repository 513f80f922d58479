import { describe } from 'vitest';
import { flowSuite } from './flow-suite.js';
import { inProcess } from './targets.js';

describe('example authorization server, in-process', () => {
  flowSuite(() => inProcess());
});
