import { defineRaceSuite } from './race-suite.js';
import { neonHttp } from '../support/drivers.js';

defineRaceSuite(neonHttp);
