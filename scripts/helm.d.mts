/** Types of scripts/helm.mjs for the TypeScript tests. */
export declare const HELM_VERSION: string;
export declare const HELM_PATH: string;
export declare function ensureHelm(): string;
export declare const KUBECTL_VERSION: string;
export declare const KUBECTL_PATH: string;
export declare function ensureKubectl(): string;
export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}
export declare function helm(args: string[], options?: Record<string, unknown>): HelmResult;
export declare function exampleAppChart(): string;
export interface ExampleAppRender {
  release?: string;
  /** Names of files under charts/example-app/values/, without .yaml. */
  valuesFiles?: string[];
  set?: Record<string, string>;
  setFile?: Record<string, string>;
}
export declare function renderExampleApp(options?: ExampleAppRender): string;
export declare function exampleAppArgs(options?: ExampleAppRender): string[];
