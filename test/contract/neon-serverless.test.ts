import { defineContractSuite } from './contract-suite.js';
import { neonServerless } from '../support/drivers.js';

defineContractSuite(neonServerless);
