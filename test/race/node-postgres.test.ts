import { defineRaceSuite } from './race-suite.js';
import { nodePostgres } from '../support/drivers.js';

defineRaceSuite(nodePostgres);
