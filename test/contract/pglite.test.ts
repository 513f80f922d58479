import { defineContractSuite } from './contract-suite.js';
import { pglite } from '../support/drivers.js';

defineContractSuite(pglite);
