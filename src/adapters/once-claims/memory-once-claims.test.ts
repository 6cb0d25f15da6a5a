import { createMemoryOnceClaims } from './memory-once-claims.ts';
import { describeOnceClaims } from './once-claims.contract.ts';

describeOnceClaims('memory', () => createMemoryOnceClaims());
