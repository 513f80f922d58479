import { defineContractSuite } from './contract-suite.js';
import { postgresJs } from '../support/drivers.js';

defineContractSuite(postgresJs);
