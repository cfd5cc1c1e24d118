/** Types of scripts/vector-verdicts.mjs for the TypeScript tests. */
import type * as Root from '../src/index.js';
import type * as Emulator from '../src/emulator/index.js';
import type { classifyMeteringError } from '../src/metering/errors.js';

/** What the verdicts judge with: the root, the emulator and the Metering error classification. */
type Library = typeof Root & typeof Emulator & { classifyMeteringError: typeof classifyMeteringError };

export interface Verdict {
  valid: boolean;
  error?: string;
  code?: string;
  exitCode?: number;
  [field: string]: unknown;
}
export declare function verdictOf<T>(
  library: Library,
  run: () => T | Promise<T>,
  describe: (value: T) => Record<string, unknown>,
): Promise<Verdict>;
export declare function registrationVerdict(
  library: Library,
  token: string,
  options: Root.VerifyRegistrationOptions,
): Promise<Verdict>;
export declare function keyVerdict(library: Library, pem: string): Promise<Verdict>;
export declare function awsErrorVerdict(library: Library, name: string, status: number): Record<string, unknown>;
export declare function scenarioVerdict(
  library: Library,
  scenario: Record<string, unknown>,
): Promise<{ verdict: Verdict; calls: number }>;
