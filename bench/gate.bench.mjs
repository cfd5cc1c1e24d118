// The in-process gate's cost: status() on a cached verdict (what a readiness probe pays every few seconds) and on
// a cache miss (the first call, or after the file changed), beside what they cannot avoid, measured in the same run:
// one fs.statSync for the cached path, and the two raw crypto.verify calls (PS256 RSA-3072 for the AWS registration,
// Ed25519 for the file) for the miss. Then the HTTP probes: the `serve` sidecar's GET /healthz (the built CLI in its
// own process) beside a bare node:http server answering a constant (also its own process), keep-alive, in the same
// run, with the server-side CPU of each request. The file is written by the real library against the local emulator.
//
//   npm run bench -- gate            # builds dist/, then runs this file
//   node bench/gate.bench.mjs        # after a build
//
// Takes about 20 seconds.
import { spawn } from 'node:child_process';
import { constants, createPublicKey, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEntitled } from '../dist/src/index.js';
import { startMeteringEmulator } from '../dist/src/emulator/index.js';
import { createEntitlementGate } from '../dist/src/gates/index.js';

const CACHED_CALLS = 20_000;
const ROUNDS = 7;
const MISSES = 300;
const RAW_VERIFIES = 300;
const HTTP_PROBES = 2_000;
/** The target: a cached status() costs at most this many fs.statSync calls of the same file. */
const CACHED_TARGET = 3;
const CLI = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));

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

/** Starts `node args` and resolves with the child and the first stdout match of `pattern`. */
function startServer(args, pattern, env = process.env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve({ child, match });
    });
    child.on('exit', (code) => reject(new Error(`node ${args.join(' ')} exited ${code}: ${out}`)));
  });
}

/** user+sys CPU of a process so far, in ms (fields 14 and 15 of /proc/PID/stat, in 10 ms ticks). */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A keep-alive GET of `path` on `port`, as a kubelet httpGet probe with keep-alive would make it. */
function prober(port, path) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const probe = () =>
    new Promise((done, fail) =>
      request({ port, host: '127.0.0.1', path, agent }, (res) => res.resume().on('end', done))
        .on('error', fail)
        .end(),
    );
  return { probe, close: () => agent.destroy() };
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
    productCode,
    publicKey: emulator.publicKeyPem,
    endpoint: emulator.url,
    region: 'us-east-1',
    env: {},
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-not-a-secret' },
    logger: {},
    entitlementFile: file,
    instanceId,
  });
  const options = { file, publicKey: emulator.publicKeyPem, productCode, instanceId };

  // The two signature checks a verification performs, on this very file, with Node's synchronous crypto.verify.
  const [header, payload, signature] = (await readFile(file, 'utf8')).trim().split('.');
  const fileKey = createPublicKey({ key: JSON.parse(Buffer.from(header, 'base64url').toString()).jwk, format: 'jwk' });
  const fileInput = Buffer.from(`${header}.${payload}`);
  const fileSignature = Buffer.from(signature, 'base64url');
  const [awsHeader, awsPayload, awsSignature] = JSON.parse(
    Buffer.from(payload, 'base64url').toString(),
  ).registration.split('.');
  const awsInput = Buffer.from(`${awsHeader}.${awsPayload}`);
  const pss = { key: emulator.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const awsSig = Buffer.from(awsSignature, 'base64url');
  const rsaBits = emulator.publicKey.asymmetricKeyDetails.modulusLength;
  if (!verify('sha256', awsInput, pss, awsSig) || !verify(null, fileInput, fileKey, fileSignature))
    throw new Error('bench setup: signatures do not verify');

  // The cache miss: the very first verification of a process (cold code paths), then many on fresh gates.
  const gates = Array.from({ length: MISSES + 1 }, () => createEntitlementGate(options));
  const [coldMiss, ...misses] = await eachCall(gates.map((gate) => () => gate.status()));
  if (!(await gates[0].status()).entitled) throw new Error('bench setup: the gate does not see the file as entitled');

  const rsaVerify = median(
    await eachCall(Array.from({ length: RAW_VERIFIES }, () => () => verify('sha256', awsInput, pss, awsSig))),
  );
  const edVerify = median(
    await eachCall(Array.from({ length: RAW_VERIFIES }, () => () => verify(null, fileInput, fileKey, fileSignature))),
  );

  // The cached path, beside the one fs.statSync it makes (and, for scale, the asynchronous stat it made before).
  const gate = gates[0];
  const { statSyncOnly, asyncStat, cached } = await perCall(
    { statSyncOnly: () => statSync(file), asyncStat: () => stat(file), cached: () => gate.status() },
    CACHED_CALLS,
  );
  if (gate.stats().verifications !== 1)
    throw new Error(`the cache did not hold: ${gate.stats().verifications} verifications`);

  // HTTP probes, keep-alive: the gate's handler in this process; the `serve` sidecar and a bare node:http server
  // answering a constant, each in its own process (their server-side CPU per request is read from /proc).
  const server = createServer(gate.handler);
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const inProcess = prober(server.address().port, '/healthz');
  const bareServer = await startServer(
    [
      '-e',
      "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port) })",
    ],
    /port (\d+)/,
  );
  const serveEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-not-a-secret',
    AWS_REGION: 'us-east-1',
  };
  const keyFile = join(dir, 'product-key.pem');
  await writeFile(keyFile, emulator.publicKeyPem);
  const sidecar = await startServer(
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--product-code',
      productCode,
      '--public-key-file',
      keyFile,
      '--endpoint',
      emulator.url,
      '--instance-id',
      instanceId,
      '--out',
      join(dir, 'sidecar.jwt'),
      '--log-level',
      'error',
    ],
    /serving on http:\/\/[\d.]+:(\d+)/,
    serveEnv,
  );
  const bare = prober(Number(bareServer.match[1]), '/');
  const serve = prober(Number(sidecar.match[1]), '/healthz');
  const cpuBefore = { bare: cpuMsOf(bareServer.child.pid), serve: cpuMsOf(sidecar.child.pid) };
  const http = await perCall({ bare: bare.probe, serve: serve.probe, handler: inProcess.probe }, HTTP_PROBES);
  const probesEach = HTTP_PROBES * (ROUNDS + 1);
  const serverCpuUs = {
    bare: ((cpuMsOf(bareServer.child.pid) - cpuBefore.bare) * 1000) / probesEach,
    serve: ((cpuMsOf(sidecar.child.pid) - cpuBefore.serve) * 1000) / probesEach,
  };
  for (const client of [inProcess, bare, serve]) client.close();
  server.close();
  bareServer.child.kill();
  sidecar.child.kill();

  const missMedian = median(misses);
  const rawPair = rsaVerify + edVerify;
  console.log(
    `node ${process.version}, ${emulator.publicKey.asymmetricKeyType}-${rsaBits} product key, file ${fileInput.length + fileSignature.length} bytes`,
  );
  const cachedRatio = cached / statSyncOnly;
  console.log(
    `status(), cached (median of ${ROUNDS} x ${CACHED_CALLS} calls)   ${micros(cached).padStart(12)}   ${cachedRatio.toFixed(2)}x one fs.statSync (${micros(statSyncOnly)}); one fs.promises.stat: ${micros(asyncStat)}`,
  );
  console.log(
    `status(), cache miss (median of ${MISSES} fresh gates)   ${micros(missMedian).padStart(12)}   p95 ${micros(p95(misses))}, ${(missMedian / rawPair).toFixed(2)}x the raw verify pair`,
  );
  console.log(`status(), first miss in this process             ${micros(coldMiss).padStart(12)}   (cold code paths)`);
  console.log(
    `crypto.verify PS256 RSA-${rsaBits} (median of ${RAW_VERIFIES})          ${micros(rsaVerify).padStart(12)}`,
  );
  console.log(`crypto.verify Ed25519 (median of ${RAW_VERIFIES})               ${micros(edVerify).padStart(12)}`);
  console.log(`raw verify pair (sum)                            ${micros(rawPair).padStart(12)}`);
  console.log(`HTTP GET, keep-alive, whole round trip (median of ${ROUNDS} x ${HTTP_PROBES}, interleaved):`);
  console.log(
    `  bare node:http server answering a constant    ${micros(http.bare).padStart(12)}   server CPU ${serverCpuUs.bare.toFixed(0)} µs per request`,
  );
  console.log(
    `  serve sidecar GET /healthz                     ${micros(http.serve).padStart(12)}   ${(http.serve / http.bare).toFixed(2)}x the bare server; server CPU ${serverCpuUs.serve.toFixed(0)} µs per request`,
  );
  console.log(
    `  gate.handler in this process GET /healthz      ${micros(http.handler).padStart(12)}   status() is ${((cached / http.handler) * 100).toFixed(1)}% of it`,
  );
  console.log(`cache miss / cached: ${(missMedian / cached).toFixed(0)}x`);
  console.log(
    `CPU per 1,000 pods, one probe every 10 s: serve sidecar ${((1000 * serverCpuUs.serve) / 1e6 / 10).toFixed(4)} cores (server side), in-process gate ${((1000 * cached) / 1e9 / 10).toFixed(6)} cores (status() only)`,
  );
  console.log(
    `target: cached status() <= ${CACHED_TARGET}x one fs.statSync: ${cachedRatio <= CACHED_TARGET ? 'PASS' : 'FAIL'} (${cachedRatio.toFixed(2)}x)`,
  );
  if (cachedRatio > CACHED_TARGET) process.exitCode = 1;
} finally {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
}
