// Starts aws-as-production-runner.mjs in new network, mount and PID namespaces and returns what it printed: the
// one way into "AWS as production reaches it", shared by the vitest harness (aws-as-production.ts) and the
// container test (scripts/container-smoke.mjs, whose podman commands then share the namespace's network). Plain
// JavaScript so that both can import it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./aws-as-production-runner.mjs', import.meta.url));

/**
 * Spawns the runner, hands it `scenario` (the runner's JSON input) on stdin and resolves with its outcome
 * (`{ commands, calls }`); rejects with one line naming what is missing or forbidden. `running` tracks the child
 * so that its owner can end it.
 */
export function runInNamespace(scenario, running = new Set()) {
  const unshareArgs = ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'];
  if (process.getuid?.() !== 0) unshareArgs.push('--map-root-user');
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', [...unshareArgs, '--', process.execPath, RUNNER], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    child.on('error', (err) => {
      running.delete(child);
      reject(
        new Error(
          err.code === 'ENOENT'
            ? 'aws-as-production: `unshare` is not installed (util-linux): it makes the private network and mount namespace AWS is emulated in.'
            : `aws-as-production: cannot start unshare: ${err.message}`,
        ),
      );
    });
    child.on('close', (code) => {
      running.delete(child);
      const outcome = parseOutcome(stdout);
      if (outcome && 'error' in outcome) return reject(new Error(`aws-as-production: ${outcome.error}`));
      if (outcome && code === 0) return resolve(outcome);
      const why = stderr.trim().split('\n')[0] || `exit code ${code}`;
      reject(
        new Error(
          /unshare/.test(why)
            ? `aws-as-production: cannot make a private network and mount namespace (${why}): run as root, or where unprivileged user namespaces are allowed.`
            : `aws-as-production: the runner failed (${why}).`,
        ),
      );
    });
    child.stdin.end(JSON.stringify(scenario));
  });
}

function parseOutcome(stdout) {
  const line = stdout.trim().split('\n').pop();
  if (!line) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
