// Runs inside the private network, mount and PID namespaces that aws-as-production.ts makes (as their PID 1):
// reads the scenario (JSON) on stdin, makes the network look like AWS as production reaches it, starts the emulator
// (HTTPS on 127.0.0.1:443 under the Region's AWS host names, the ECS stand-ins on 169.254.170.2:80), runs the
// commands, and prints one line of JSON: { commands, calls } or { error }. Plain JavaScript on the build
// (dist/), as it runs outside vitest. When it exits, the kernel ends every process left in the namespace.
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMeteringEmulator } from '../../dist/src/emulator/index.js';

const ECS_AGENT_ADDRESS = '169.254.170.2';

/** Runs a setup program; a missing or refused one is a one-line error naming it. */
function setUp(program, args, what) {
  try {
    execFileSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error(`\`${program}\` is not installed: it is needed to ${what}.`);
    const said = String(err.stderr ?? '')
      .trim()
      .split('\n')[0];
    throw new Error(`\`${program} ${args.join(' ')}\` failed (${said || `exit code ${err.status}`}): cannot ${what}.`);
  }
}

/** Starts a command; resolves its outcome when it has exited. */
function start(command) {
  const child = spawn(command.argv[0], command.argv.slice(1), {
    cwd: command.cwd,
    env: command.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = { code: null, signal: null, stdout: '', stderr: '', timedOut: false };
  const listeners = new Set();
  let exited = false;
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', (chunk) => {
    result.stdout += chunk.toString();
    notify();
  });
  child.stderr.on('data', (chunk) => {
    result.stderr += chunk.toString();
    notify();
  });
  const timer = setTimeout(() => {
    result.timedOut = true;
    child.kill('SIGKILL');
  }, command.timeoutMs);
  const done = new Promise((resolve) => {
    child.on('error', (err) => {
      result.stderr += `cannot start ${command.argv[0]}: ${err.message}\n`;
      result.code = 127;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      exited = true; // before notify(): a command that ends without its readyWhen text must release the wait
      if (result.code === null) result.code = code;
      result.signal = signal;
      notify();
      resolve(result);
    });
  });
  /** Resolves once the output contains `text`, or the command has exited. */
  const saw = (text) =>
    new Promise((resolve) => {
      const check = () => {
        if (exited || result.stdout.includes(text) || result.stderr.includes(text)) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
    });
  return { child, result, done, saw };
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const scenario = JSON.parse(input);

  setUp('ip', ['link', 'set', 'lo', 'up'], 'bring loopback up in the private network namespace');
  setUp(
    'ip',
    ['addr', 'add', `${ECS_AGENT_ADDRESS}/32`, 'dev', 'lo'],
    `give loopback the ECS agent's address ${ECS_AGENT_ADDRESS}`,
  );
  const hostsFile = join(scenario.dir, `hosts-${process.ppid}-${Date.now()}`);
  writeFileSync(
    hostsFile,
    `127.0.0.1 localhost\n::1 localhost\n${scenario.hostNames.map((name) => `127.0.0.1 ${name}\n`).join('')}`,
  );
  try {
    setUp(
      'mount',
      ['--bind', hostsFile, '/etc/hosts'],
      'bind the hosts file over /etc/hosts in the private mount namespace',
    );
  } finally {
    // The bind mount holds the file itself; its name in the shared directory is not needed past this point.
    rmSync(hostsFile, { force: true });
  }

  const emulator = await startMeteringEmulator({
    ...scenario.emulator,
    host: '127.0.0.1',
    port: 443,
    tls: scenario.tls,
    privateKey: scenario.privateKeyPem,
    ecs: { region: scenario.region, host: ECS_AGENT_ADDRESS, port: 80 },
  });
  const commands = [];
  const background = [];
  try {
    for (const command of scenario.commands) {
      const started = start(command);
      commands.push(started.result);
      if (command.background) {
        background.push(started);
        await started.saw(command.background.readyWhen);
      } else {
        await started.done;
      }
    }
  } finally {
    for (const { child } of background) child.kill('SIGTERM');
    await Promise.all(background.map(({ done }) => done));
    await emulator.close();
  }
  return { commands, calls: emulator.calls };
}

main().then(
  (outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`),
  (err) => {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exitCode = 1;
  },
);
