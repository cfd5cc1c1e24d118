/** Types of scripts/vector-verdicts.mjs for the TypeScript tests. */
import type * as Library from '../src/index.js';

export interface Verdict {
  valid: boolean;
  error?: string;
  code?: string;
  exitCode?: number;
  [field: string]: unknown;
}
export declare function verdictOf<T>(library: typeof Library, run: () => T | Promise<T>, describe: (value: T) => Record<string, unknown>): Promise<Verdict>;
export declare function registrationVerdict(library: typeof Library, token: string, options: Library.VerifyRegistrationOptions): Promise<Verdict>;
export declare function keyVerdict(library: typeof Library, pem: string): Promise<Verdict>;
export declare function awsErrorVerdict(library: typeof Library, name: string, status: number): Record<string, unknown>;
export declare function scenarioVerdict(library: typeof Library, scenario: Record<string, unknown>): Promise<{ verdict: Verdict; calls: number }>;
