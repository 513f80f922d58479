import { defineRaceSuite } from './race-suite.js';
import { neonServerless } from '../support/drivers.js';

defineRaceSuite(neonServerless);
