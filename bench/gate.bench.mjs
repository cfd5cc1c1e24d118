// The in-process gate's cost: status() on a cached verdict (what a readiness probe pays every few seconds) and on
// a cache miss (the first call, or after the file changed), beside what they cannot avoid, measured in the same run:
// one fs.stat for the cached path, and the two raw crypto.verify calls (PS256 RSA-3072 for the AWS registration,
// Ed25519 for the file) for the miss. The file is written by the real library against the local emulator.
//
//   npm run bench -- gate            # builds dist/, then runs this file
//   node bench/gate.bench.mjs        # after a build
//
// Takes about 10 seconds.
import { constants, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEntitlementGate, ensureEntitled, startMeteringEmulator } from '../dist/src/index.js';

const CACHED_CALLS = 20_000;
const ROUNDS = 7;
const MISSES = 300;
const RAW_VERIFIES = 300;
const HTTP_PROBES = 2_000;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];
const micros = (ns) => `${(ns / 1000).toFixed(2)} µs`;
const nowNs = () => Number(process.hrtime.bigint());

/**
 * Median over rounds of the mean cost of one `await fn()`, in ns, for each named function. Rounds of the functions
 * alternate, so a slower or faster stretch of the machine affects them alike.
 */
async function perCall(fns, calls) {
  const rounds = Object.fromEntries(Object.keys(fns).map((name) => [name, []]));
  for (let round = 0; round <= ROUNDS; round += 1) {
    for (const [name, fn] of Object.entries(fns)) {
      const start = nowNs();
      for (let i = 0; i < calls; i += 1) await fn();
      if (round > 0) rounds[name].push((nowNs() - start) / calls); // round 0 warms up
    }
  }
  return Object.fromEntries(Object.entries(rounds).map(([name, times]) => [name, median(times)]));
}

/** Each call timed on its own, in ns. */
async function eachCall(fns) {
  const times = [];
  for (const fn of fns) {
    const start = nowNs();
    await fn();
    times.push(nowNs() - start);
  }
  return times;
}

const dir = await mkdtemp(join(tmpdir(), 'gate-bench-'));
const emulator = await startMeteringEmulator();
try {
  const file = join(dir, 'entitlement.jwt');
  const productCode = 'prod-bench-gate';
  const instanceId = 'pod-bench-0001';
  await ensureEntitled({
    productCode, publicKey: emulator.publicKeyPem, endpoint: emulator.url, region: 'us-east-1', env: {},
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-not-a-secret' }, logger: {},
    entitlementFile: file, instanceId,
  });
  const options = { file, publicKey: emulator.publicKeyPem, productCode, instanceId };

  // The two signature checks a verification performs, on this very file, with Node's synchronous crypto.verify.
  const [header, payload, signature] = (await readFile(file, 'utf8')).trim().split('.');
  const fileKey = createPublicKey({ key: JSON.parse(Buffer.from(header, 'base64url').toString()).jwk, format: 'jwk' });
  const fileInput = Buffer.from(`${header}.${payload}`);
  const fileSignature = Buffer.from(signature, 'base64url');
  const [awsHeader, awsPayload, awsSignature] = JSON.parse(Buffer.from(payload, 'base64url').toString()).registration.split('.');
  const awsInput = Buffer.from(`${awsHeader}.${awsPayload}`);
  const pss = { key: emulator.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const awsSig = Buffer.from(awsSignature, 'base64url');
  const rsaBits = emulator.publicKey.asymmetricKeyDetails.modulusLength;
  if (!verify('sha256', awsInput, pss, awsSig) || !verify(null, fileInput, fileKey, fileSignature)) throw new Error('bench setup: signatures do not verify');

  // The cache miss: the very first verification of a process (cold code paths), then many on fresh gates.
  const gates = Array.from({ length: MISSES + 1 }, () => createEntitlementGate(options));
  const [coldMiss, ...misses] = await eachCall(gates.map((gate) => () => gate.status()));
  if (!(await gates[0].status()).entitled) throw new Error('bench setup: the gate does not see the file as entitled');

  const rsaVerify = median(await eachCall(Array.from({ length: RAW_VERIFIES }, () => () => verify('sha256', awsInput, pss, awsSig))));
  const edVerify = median(await eachCall(Array.from({ length: RAW_VERIFIES }, () => () => verify(null, fileInput, fileKey, fileSignature))));

  // The cached path, beside the one fs.stat it makes.
  const gate = gates[0];
  const { statOnly, cached } = await perCall({ statOnly: () => stat(file), cached: () => gate.status() }, CACHED_CALLS);
  if (gate.stats().verifications !== 1) throw new Error(`the cache did not hold: ${gate.stats().verifications} verifications`);

  // For scale: a whole readiness probe over HTTP (keep-alive) against the handler.
  const server = createServer(gate.handler);
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const port = server.address().port;
  const probe = () =>
    new Promise((done, fail) =>
      request({ port, host: '127.0.0.1', path: '/healthz', agent }, (res) => res.resume().on('end', done)).on('error', fail).end(),
    );
  const { httpProbe } = await perCall({ httpProbe: probe }, HTTP_PROBES);
  agent.destroy();
  server.close();

  const missMedian = median(misses);
  const rawPair = rsaVerify + edVerify;
  console.log(`node ${process.version}, ${emulator.publicKey.asymmetricKeyType}-${rsaBits} product key, file ${fileInput.length + fileSignature.length} bytes`);
  console.log(`status(), cached (median of ${ROUNDS} x ${CACHED_CALLS} calls)   ${micros(cached).padStart(12)}   ${(cached / statOnly).toFixed(2)}x one fs.promises.stat (${micros(statOnly)})`);
  console.log(`status(), cache miss (median of ${MISSES} fresh gates)   ${micros(missMedian).padStart(12)}   p95 ${micros(p95(misses))}, ${(missMedian / rawPair).toFixed(2)}x the raw verify pair`);
  console.log(`status(), first miss in this process             ${micros(coldMiss).padStart(12)}   (cold code paths)`);
  console.log(`crypto.verify PS256 RSA-${rsaBits} (median of ${RAW_VERIFIES})          ${micros(rsaVerify).padStart(12)}`);
  console.log(`crypto.verify Ed25519 (median of ${RAW_VERIFIES})               ${micros(edVerify).padStart(12)}`);
  console.log(`raw verify pair (sum)                            ${micros(rawPair).padStart(12)}`);
  console.log(`HTTP GET /healthz, keep-alive, whole round trip  ${micros(httpProbe).padStart(12)}   status() is ${((cached / httpProbe) * 100).toFixed(1)}% of it`);
  console.log(`cache miss / cached: ${(missMedian / cached).toFixed(0)}x`);
} finally {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
}
