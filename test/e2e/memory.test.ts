import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { runE2eSuite } from './suite.js';

runE2eSuite('memory', () => createMemoryStorage());
