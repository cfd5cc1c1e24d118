/**
 * The AWS call layer's defaults, apart from the modules that apply them (tls-roots.ts loads node:tls and
 * node:crypto), so the CLI's option tables can show them without loading either.
 *
 * @example
 * const roots = options.tlsRoots ?? DEFAULT_TLS_ROOTS; // 'aws'
 */

/** The roots used when none are given: Amazon's own only (tls-roots.ts says which). */
export const DEFAULT_TLS_ROOTS = 'aws';
