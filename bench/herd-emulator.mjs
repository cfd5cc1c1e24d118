// The Metering emulator in its own process for bench/herd-http.bench.mjs (so the 200 clients and the
// server do not share one event loop). Prints one JSON line {url, publicKeyPem}; when stdin closes it
// prints one JSON line of server-side counts and exits.
//   node bench/herd-emulator.mjs '{"rateLimit":{"perSecond":5,"burst":5}}'
import { importDist } from './dist.mjs';

const scenario = JSON.parse(process.argv[2] ?? '{}');
const { startMeteringEmulator } = await importDist('src/emulator/index.js');
const emulator = await startMeteringEmulator({ scenario });
process.stdout.write(`${JSON.stringify({ url: emulator.url, publicKeyPem: emulator.publicKeyPem })}\n`);

process.stdin.resume();
process.stdin.on('end', async () => {
  const ok = emulator.calls.filter((c) => c.statusCode === 200);
  const served = ok.map((c) => c.at.getTime()).sort((a, b) => a - b);
  // The most calls the bucket let through in any 1 s window: at most burst + rate.
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < served.length; i += 1) {
    while (served[i] - served[j] >= 1000) j += 1;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  // Each pod keeps one nonce across its retries: its first call shows when the pod really started.
  const firstByPod = new Map();
  for (const c of emulator.calls) {
    const nonce = String(c.input.Nonce);
    if (!firstByPod.has(nonce)) firstByPod.set(nonce, c.at.getTime());
  }
  const firsts = [...firstByPod.values()];
  const counts = {
    pods: firstByPod.size,
    firstCallSpreadMs: firsts.length > 0 ? Math.max(...firsts) - Math.min(...firsts) : 0,
    calls: emulator.calls.length,
    ok: ok.length,
    throttled: emulator.calls.filter((c) => c.errorType === 'ThrottlingException').length,
    other: emulator.calls.filter((c) => c.statusCode !== 200 && c.errorType !== 'ThrottlingException').length,
    maxPerSecond,
  };
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  await emulator.close();
  process.exit(0);
});
