/**
 * AWS as production reaches it, outside containers: commands run in a private network and mount namespace where
 * AWS's own host names for the Region (`awsHostNames(region)`) resolve, through a hosts file bound over /etc/hosts,
 * to the emulator on 127.0.0.1:443 (HTTPS, a certificate from a CA made for this environment), and 169.254.170.2:80
 * answers as the ECS agent (task metadata v4, container credentials). No endpoint setting anywhere: the shipped
 * artifacts run unmodified, and only a client told to trust the run's CA (`caFile`) gets through.
 *
 * Each `run()` is one namespace: `unshare --net --mount --pid --fork --kill-child --mount-proc` (plus
 * `--map-root-user` when not root) runs aws-as-production-runner.mjs, which brings loopback up, adds
 * 169.254.170.2, binds the hosts file, starts the emulator, runs the commands as child processes (they inherit the
 * namespace), and prints the outcome as JSON. The namespace ends with the runner (PID 1 of its PID namespace): no
 * process outlives a run, and nothing is mounted outside it. `close()` removes the environment's directory.
 * Missing or forbidden unshare/ip/mount fail the run with one clear line: never a skip.
 *
 * @example
 * const aws = await startAwsAsProduction({ region: 'us-east-1' });
 * await writeFile(join(aws.dir, 'token'), 'jwt');
 * const result = await aws.run({
 *   commands: [{ argv: [process.execPath, 'probe.mjs'], env: { AWS_REGION: 'us-east-1', CA_FILE: aws.caFile } }],
 * });
 * result.commands[0]!.code; // 0
 * result.calls.filter((call) => call.operation === 'RegisterUsage'); // what the emulator answered
 * await aws.close();
 */
import type { ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificateAuthority } from '../../src/emulator/certificates.js';
import { awsHostNames, type AwsHostNames } from '../../src/emulator/aws-host-names.js';
import { ECS_AGENT_ADDRESS, ECS_CONTAINER_ID, ECS_CREDENTIALS_ID } from '../../src/emulator/ecs.js';
import type { MeteringEmulatorOptions, RecordedCall } from '../../src/emulator/index.js';
import { runInNamespace } from './aws-as-production-namespace.mjs';
import { testSigningKey } from './emulator.js';

/** The environment: one Region, one CA, one emulator signing key, one directory; any number of runs. */
export interface AwsAsProduction {
  region: string;
  /** The names served, resolved to 127.0.0.1 inside each run. */
  hostNames: AwsHostNames;
  /** A directory for the test's files (token files, baked bundles, ...), visible inside runs; removed by `close()`. */
  dir: string;
  /** The run CA's certificate (PEM) and its file: what a client must trust (e.g. `bake --tls-roots caFile`). */
  caPem: string;
  caFile: string;
  /** The emulator's signing key (its tokens verify under it): PEM and its file (`--public-key-file`). */
  publicKeyPem: string;
  publicKeyFile: string;
  /**
   * What the ECS agent sets in a task, pointing at the stand-ins on 169.254.170.2:80:
   * `ECS_CONTAINER_METADATA_URI_V4` and `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. Give it to a command to run it
   * "as an ECS task"; leave it out for an EKS pod.
   */
  ecsEnvironment: Record<string, string>;
  /** Runs `scenario` in a fresh namespace and emulator; rejects with one line when the namespace cannot be made. */
  run(scenario: AwsAsProductionScenario): Promise<AwsAsProductionResult>;
  /** Ends a run still going and removes `dir`. */
  close(): Promise<void>;
}

/** One run: how the emulator behaves, and the commands to run in order. */
export interface AwsAsProductionScenario {
  /** The emulator's behaviour (JSON-able options); it always serves HTTPS on 127.0.0.1:443 with the run CA. */
  emulator?: Pick<
    MeteringEmulatorOptions,
    'scenario' | 'licenses' | 'licenseManager' | 'credentials' | 'roleCredentials'
  >;
  commands: AwsAsProductionCommand[];
}

/** A command run inside the namespace. */
export interface AwsAsProductionCommand {
  /** The program and its arguments; the program is looked up in PATH (give `process.execPath` for this Node). */
  argv: string[];
  /**
   * The command's whole environment besides `PATH` and `HOME` (an empty directory under `dir`): nothing of the
   * test process's environment is passed on, so no endpoint setting or credential leaks in.
   */
  env?: Record<string, string>;
  /** Default `dir`. */
  cwd?: string;
  /**
   * Keep it running while the following commands run (a sidecar, `serve`): the next command starts once its
   * stdout or stderr contains `readyWhen` (or it exited). It gets SIGTERM after the last command.
   */
  background?: { readyWhen: string };
  /** Killed (SIGKILL) when still running after this long; default 60 s. A guard against hangs, not a timing test. */
  timeoutMs?: number;
}

/** How one command ended. */
export interface AwsAsProductionCommandResult {
  /** The exit code, or null when ended by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when `timeoutMs` ran out and it was killed. */
  timedOut: boolean;
}

/** A recorded emulator call as JSON carries it (`at` an ISO string). */
export type AwsAsProductionCall = Omit<RecordedCall, 'at'> & { at: string };

/** What a run produced: each command's outcome, in order, and every call the emulator and the ECS stand-ins received. */
export interface AwsAsProductionResult {
  commands: AwsAsProductionCommandResult[];
  calls: AwsAsProductionCall[];
}

/** Makes the environment: a directory, the run CA and a server certificate for the Region's AWS host names. */
export async function startAwsAsProduction(options: { region?: string } = {}): Promise<AwsAsProduction> {
  const region = options.region ?? 'us-east-1';
  const hostNames = awsHostNames(region);
  const ca = createTestCertificateAuthority();
  const server = ca.issueServerCertificate({ dnsNames: hostNames.all });
  const signingKey = await testSigningKey();
  const privateKeyPem = signingKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
  const dir = await mkdtemp(join(tmpdir(), 'aws-as-production-'));
  const running = new Set<ChildProcess>();
  const caFile = join(dir, 'ca.pem');
  const publicKeyFile = join(dir, 'emulator-public-key.pem');
  await Promise.all([
    writeFile(caFile, ca.certificatePem),
    writeFile(publicKeyFile, publicKeyPem),
    mkdir(join(dir, 'home')),
  ]);

  return {
    region,
    hostNames,
    dir,
    caPem: ca.certificatePem,
    caFile,
    publicKeyPem,
    publicKeyFile,
    ecsEnvironment: {
      ECS_CONTAINER_METADATA_URI_V4: `http://${ECS_AGENT_ADDRESS}/v4/${ECS_CONTAINER_ID}`,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: `/v2/credentials/${ECS_CREDENTIALS_ID}`,
    },
    run: (scenario) =>
      runInNamespace<AwsAsProductionResult>(
        {
          region,
          dir,
          hostNames: hostNames.all,
          tls: { key: server.privateKeyPem, cert: server.certificatePem },
          privateKeyPem,
          emulator: scenario.emulator ?? {},
          commands: scenario.commands.map((command) => ({
            ...command,
            cwd: command.cwd ?? dir,
            env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: join(dir, 'home'), ...command.env },
            timeoutMs: command.timeoutMs ?? 60_000,
          })),
        },
        running,
      ),
    async close() {
      for (const child of running) child.kill('SIGKILL'); // --kill-child takes the namespace's processes with it
      await rm(dir, { recursive: true, force: true });
    },
  };
}
