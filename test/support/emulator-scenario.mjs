#!/usr/bin/env node
/**
 * The emulator with a scenario the CLI has no flag for, for the ports' tests (ports/go, ports/python): spoiled tokens
 * (`tokenFault`), PascalCase claims, another `iat`, a key rotation. Prints and logs as `emulator` does: a first line
 * "emulator listening on URL; public key in FILE", and on SIGTERM a line with "event":"emulator.stopped" and "calls".
 *
 *   node test/support/emulator-scenario.mjs KEY_OUT '{"tokenFault":"wrong-nonce"}'
 *
 * Uses the build (dist/); `rotationTimestamp` is given in epoch seconds.
 */
import { writeFileSync } from 'node:fs';
import { startMeteringEmulator } from '../../dist/src/emulator/index.js';

const [keyOut, scenarioJson = '{}'] = process.argv.slice(2);
if (!keyOut) {
  console.error('usage: emulator-scenario.mjs KEY_OUT [SCENARIO_JSON]');
  process.exit(64);
}
const { rotationTimestamp, ...scenario } = JSON.parse(scenarioJson);
const emulator = await startMeteringEmulator({
  port: 0,
  host: '127.0.0.1',
  scenario: {
    ...scenario,
    ...(rotationTimestamp !== undefined && { rotationTimestamp: new Date(rotationTimestamp * 1000) }),
  },
});
writeFileSync(keyOut, emulator.publicKeyPem);
console.log(`emulator listening on ${emulator.url}; public key in ${keyOut}`);
process.once('SIGTERM', () => {
  console.log(JSON.stringify({ event: 'emulator.stopped', calls: emulator.calls.length }));
  void emulator.close().then(() => process.exit(0));
});
