/** Types of aws-as-production-namespace.mjs for the TypeScript tests. */
import type { ChildProcess } from 'node:child_process';
export declare function runInNamespace<T>(scenario: object, running?: Set<ChildProcess>): Promise<T>;
