import { defineContractSuite } from './contract-suite.js';
import { neonHttp } from '../support/drivers.js';

defineContractSuite(neonHttp);
