/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/hardening: the process guards against injected or mounted-over code (docs/threat-model.md).
 * Every entry point applies them through its `hardened`, `codeInjection` and `mountedCode` options; these are the
 * same checks on their own, for a process that wants them before it loads anything else.
 *
 * @example
 * import { checkProcessIntegrity, findCodeInjection } from 'marketplace-entitlement/hardening';
 * console.log(findCodeInjection([process.env], process.execArgv)); // [] unless NODE_OPTIONS & co. load code
 * checkProcessIntegrity({ codeInjection: 'refuse' }); // throws an EntitlementError naming them when they do
 */
export { findCodeInjection, CODE_LOADING_VARIABLES } from './integrity.js';
export type { ProcessGuardOptions, GuardMode } from './integrity.js';
export { checkProcessIntegrity } from './process-guards.js';
