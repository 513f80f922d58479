import { defineRaceSuite } from './race-suite.js';
import { postgresJs } from '../support/drivers.js';

defineRaceSuite(postgresJs);
