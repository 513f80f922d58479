import { defineRaceSuite } from './race-suite.js';
import { pglite } from '../support/drivers.js';

// PGlite is one in-process connection: racers interleave on it rather than on
// separate server connections, which the node-postgres and other server drivers cover.
defineRaceSuite(pglite);
