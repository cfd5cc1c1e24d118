/**
 * Tampering, exhaustively: a real entitlement file (ensureEntitled against the emulator over HTTP) and the
 * AWS registration token inside it, changed at every byte position (four values each) and cut at every
 * length. Every variant must be rejected with a VerificationError (exit 65), never accepted and never a
 * different kind of error. The counts are printed and recorded in docs/reliability.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEntitled, VerificationError, verifyRegistration } from '../../src/index.js';
import type { MeteringEmulator } from '../../src/emulator/index.js';
import { verifyEntitlementFile } from '../../src/entitlement-file/entitlement-file.js';
import { emulatorOptions, startTestEmulator, TEST_PRODUCT_CODE } from '../support/emulator.js';

const INSTANCE = 'pod-uid-5e1c0d3a-7b8f-4c1e-9a2d-000000000001';

let emulator: MeteringEmulator;
let dir: string;
let file: Buffer;
let registration: string;
let nonce: string;
let issuedAt: Date;

beforeAll(async () => {
  emulator = await startTestEmulator();
  dir = mkdtempSync(join(tmpdir(), 'tampering-'));
  const path = join(dir, 'entitlement.jwt');
  const entitlement = await ensureEntitled(emulatorOptions(emulator, { entitlementFile: path, instanceId: INSTANCE }));
  file = readFileSync(path);
  registration = entitlement.registration;
  nonce = entitlement.nonce;
  issuedAt = entitlement.issuedAt;
});

afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The values tried at each position: neighbouring character, case flip, a JWS separator, a non-ASCII byte. */
function variants(byte: number): number[] {
  const candidates = [byte ^ 0x01, byte ^ 0x20, byte === 0x2e ? 0x41 : 0x2e, byte ^ 0x80];
  return [...new Set(candidates)].filter((v) => v !== byte);
}

type Outcome = { accepted: true } | { accepted: false; code: string; kind: string };

async function judge(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    await run();
    return { accepted: true };
  } catch (err) {
    return {
      accepted: false,
      code: (err as { code?: string }).code ?? '',
      kind: err instanceof VerificationError ? 'VerificationError' : String(err),
    };
  }
}

/** Tallies outcomes; `wrong` lists variants that were accepted or failed with anything but a VerificationError. */
function tally() {
  const codes = new Map<string, number>();
  const wrong: string[] = [];
  let cases = 0;
  return {
    codes,
    wrong,
    get cases() {
      return cases;
    },
    add(label: string, outcome: Outcome) {
      cases += 1;
      if (outcome.accepted) wrong.push(`${label}: accepted`);
      else if (outcome.kind !== 'VerificationError') wrong.push(`${label}: ${outcome.kind}`);
      else codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
    },
  };
}

const fileOptions = () => ({
  publicKey: emulator.publicKeyPem,
  productCode: TEST_PRODUCT_CODE,
  publicKeyVersion: 1,
  instanceId: INSTANCE,
});

describe('tampering with the entitlement file', () => {
  it('the untouched file verifies (the baseline the variants are judged against)', async () => {
    const path = join(dir, 'baseline.jwt');
    writeFileSync(path, file);
    const claims = await verifyEntitlementFile(path, fileOptions());
    expect(claims.instance).toBe(INSTANCE);
    expect(claims.registration).toBe(registration);
    expect(file.at(-1)).toBe(0x0a);
  });

  it('rejects every single-byte change at every position', async () => {
    const path = join(dir, 'changed.jwt');
    const t = tally();
    for (let i = 0; i < file.length; i += 1) {
      for (const value of variants(file[i]!)) {
        const changed = Buffer.from(file);
        changed[i] = value;
        writeFileSync(path, changed);
        t.add(`byte ${i} ${file[i]}->${value}`, await judge(() => verifyEntitlementFile(path, fileOptions())));
      }
    }
    console.log(
      `entitlement file: ${file.length} bytes, ${t.cases} single-byte changes, all rejected by: ${JSON.stringify(Object.fromEntries(t.codes))}`,
    );
    expect(t.wrong).toEqual([]);
    expect(t.cases).toBeGreaterThan(file.length * 3);
  });

  it('rejects every truncation that removes signed content', async () => {
    const path = join(dir, 'truncated.jwt');
    const t = tally();
    // Cut to 0 .. length-2 bytes. Cutting only the final newline leaves the complete signed JWS; that one
    // is checked separately below.
    for (let length = 0; length < file.length - 1; length += 1) {
      writeFileSync(path, file.subarray(0, length));
      t.add(`length ${length}`, await judge(() => verifyEntitlementFile(path, fileOptions())));
    }
    console.log(
      `entitlement file: ${t.cases} truncations, all rejected by: ${JSON.stringify(Object.fromEntries(t.codes))}`,
    );
    expect(t.wrong).toEqual([]);
    expect(t.cases).toBe(file.length - 1);
  });

  it('a file without its final newline carries the same signed bytes and verifies to the same claims', async () => {
    const path = join(dir, 'no-newline.jwt');
    writeFileSync(path, file.subarray(0, file.length - 1));
    const claims = await verifyEntitlementFile(path, fileOptions());
    expect(claims.registration).toBe(registration);
    expect(claims.nonce).toBe(nonce);
  });

  it('rejects every byte appended after the newline (a second line, trailing garbage)', async () => {
    const path = join(dir, 'appended.jwt');
    const t = tally();
    for (const extra of ['\n', ' ', 'A', '.', '\r\n', 'x'.repeat(100)]) {
      writeFileSync(path, Buffer.concat([file, Buffer.from(extra)]));
      t.add(`appended ${JSON.stringify(extra)}`, await judge(() => verifyEntitlementFile(path, fileOptions())));
    }
    expect(t.wrong).toEqual([]);
  });
});

describe('tampering with the registration token inside', () => {
  const options = () => ({
    publicKey: emulator.publicKeyPem,
    productCode: TEST_PRODUCT_CODE,
    publicKeyVersion: 1,
    nonce,
    now: issuedAt,
  });

  it('the untouched token verifies', async () => {
    const claims = await verifyRegistration(registration, options());
    expect(claims.nonce).toBe(nonce);
  });

  it('rejects every single-character change at every position', async () => {
    const t = tally();
    for (let i = 0; i < registration.length; i += 1) {
      const code = registration.charCodeAt(i);
      for (const value of variants(code)) {
        const changed = registration.slice(0, i) + String.fromCharCode(value) + registration.slice(i + 1);
        t.add(`char ${i}`, await judge(() => verifyRegistration(changed, options())));
      }
    }
    console.log(
      `registration token: ${registration.length} characters, ${t.cases} single-character changes, all rejected by: ${JSON.stringify(Object.fromEntries(t.codes))}`,
    );
    expect(t.wrong).toEqual([]);
    expect(t.cases).toBeGreaterThan(registration.length * 3);
  });

  it('rejects every truncation and every appended character', async () => {
    const t = tally();
    for (let length = 0; length < registration.length; length += 1) {
      t.add(`length ${length}`, await judge(() => verifyRegistration(registration.slice(0, length), options())));
    }
    for (const extra of ['A', '.', '=', '\n', ' ']) {
      t.add(
        `appended ${JSON.stringify(extra)}`,
        await judge(() => verifyRegistration(registration + extra, options())),
      );
    }
    console.log(
      `registration token: ${t.cases} truncations and appends, all rejected by: ${JSON.stringify(Object.fromEntries(t.codes))}`,
    );
    expect(t.wrong).toEqual([]);
  });
});
