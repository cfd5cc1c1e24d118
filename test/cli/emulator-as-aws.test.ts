/**
 * `emulator --aws-host-names` and `--ecs-endpoint`: the CLI serves HTTPS under the Region's AWS host names with a
 * certificate from a CA made for the run (written to --tls-dir with a hosts-file snippet), and answers as the ECS
 * agent. Here on free ports of 127.0.0.1 (the names are asked for through SNI and Host); the namespace test
 * (test/core/aws-as-production.test.ts) resolves them for real.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, useTempDir, waitFor } from './helpers.js';

const dir = useTempDir();

/** One HTTPS GET to 127.0.0.1:port asking for `name`, trusting only `caPem`: the status, or the error code. */
function getAs(name: string, port: number, caPem: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, servername: name, headers: { host: name }, ca: [caPem], agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(`status ${res.statusCode}`));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    req.end();
  });
}

describe('emulator --aws-host-names', () => {
  it("serves the Region's AWS names over TLS from the run CA, writes ca.pem and the hosts entries, and answers as the ECS agent", async () => {
    const tlsDir = join(dir(), 'as-aws');
    const cli = startCli([
      'emulator',
      '--aws-host-names',
      '--region',
      'eu-central-1',
      '--tls-dir',
      tlsDir,
      '--port',
      '0',
      '--ecs-endpoint',
      '127.0.0.1:0',
    ]);
    try {
      await waitFor(
        () => cli.stdout().includes('ECS agent stand-ins') || cli.child.exitCode !== null,
        'the emulator to listen',
        30_000,
      );
      const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(cli.stdout())?.[1]);
      expect(port, `${cli.stdout()}\n${cli.stderr()}`).toBeGreaterThan(0);
      const names = [
        'metering.marketplace.eu-central-1.amazonaws.com',
        'license-manager.eu-central-1.amazonaws.com',
        'sts.eu-central-1.amazonaws.com',
      ];
      expect(cli.stdout()).toContain(
        `serving as ${names.join(', ')}; trust ${join(tlsDir, 'ca.pem')}; hosts entries in ${join(tlsDir, 'hosts')}`,
      );
      expect(await readFile(join(tlsDir, 'hosts'), 'utf8')).toBe(names.map((name) => `127.0.0.1 ${name}\n`).join(''));
      const caPem = await readFile(join(tlsDir, 'ca.pem'), 'utf8');

      expect(await getAs(names[0]!, port, caPem)).toBe('status 403'); // reached: an unsigned request, refused as AWS does
      expect(await getAs(names[2]!, port, caPem)).toBe('status 403');
      expect(await getAs('metering.marketplace.us-east-1.amazonaws.com', port, caPem)).toBe(
        'error ERR_TLS_CERT_ALTNAME_INVALID',
      );

      const metadataUri = /ECS_CONTAINER_METADATA_URI_V4=(\S+)/.exec(cli.stdout())?.[1];
      const task = (await (await fetch(`${metadataUri}/task`)).json()) as { TaskARN: string };
      expect(task.TaskARN).toMatch(/^arn:aws:ecs:eu-central-1:123456789012:task\//);
      expect(cli.stdout()).toMatch(
        /AWS_CONTAINER_CREDENTIALS_FULL_URI=http:\/\/127\.0\.0\.1:\d+\/v2\/credentials\/\S+/,
      );
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(
      result
        .logs()
        .filter((line) => line.event === 'emulator.call')
        .map((line) => [line.operation, line.host]),
    ).toEqual([
      ['', 'metering.marketplace.eu-central-1.amazonaws.com'],
      ['', 'sts.eu-central-1.amazonaws.com'],
      ['EcsTaskMetadata', expect.stringMatching(/^127\.0\.0\.1:\d+$/)],
    ]);
  });

  it.each([
    [['--aws-host-names', '--tls-dir', 'x'], 64, /--region/],
    [['--aws-host-names', '--region', 'us-east-1'], 64, /--tls-dir/],
    [['--ecs-endpoint', '127.0.0.1:0'], 64, /--region/],
    [['--aws-host-names', '--region', 'us-east1', '--tls-dir', 'x'], 78, /--region: "us-east1" is not an AWS Region/],
    [
      ['--aws-host-names', '--region', 'us-east-1', '--tls-dir', 'x', '--host', 'localhost'],
      78,
      /--host "localhost" is not an IP address/,
    ],
    [
      ['--region', 'us-east-1', '--ecs-endpoint', '169.254.170.2'],
      78,
      /--ecs-endpoint "169.254.170.2" is not ADDRESS:PORT/,
    ],
  ])('%j: exit %i, saying what is wrong, and nothing written', async (args, code, message) => {
    const result = await runCli(['emulator', ...args.map((arg) => (arg === 'x' ? join(dir(), 'refused') : arg))]);

    expect(result.code).toBe(code);
    expect(result.stderr.replaceAll('\\"', '"')).toMatch(message); // the JSON log line escapes the quotes
    await expect(readFile(join(dir(), 'refused', 'ca.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
