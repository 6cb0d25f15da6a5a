import { createMemoryLimiters } from './flexible-limiter.ts';
import { describeLimiter } from './limiter.contract.ts';

describeLimiter('memory', () => createMemoryLimiters());
