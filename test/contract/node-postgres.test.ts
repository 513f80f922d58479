import { defineContractSuite } from './contract-suite.js';
import { nodePostgres } from '../support/drivers.js';

defineContractSuite(nodePostgres);
