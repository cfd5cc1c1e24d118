/**
 * The package version `--version` prints. The bundle runs without package.json beside it (the image ships
 * cli.mjs alone), so the number lives here; test/cli/cli-usage.test.ts fails when it differs from package.json.
 *
 * @example
 * console.log(VERSION); // '0.1.0'
 */
export const VERSION = '0.1.0';
