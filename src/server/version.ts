import { readFileSync } from 'node:fs';

/**
 * /version in Kubernetes' version.Info shape. gitVersion is the Kubernetes API level this server emulates (1.35),
 * with our own version as build metadata (`+volumesnapshot-apiserver.<ours>`, as distributions such as k3s do):
 * kubectl compares its minor with the server's for its skew warning, and the kubectl dispatcher on some machines
 * picks the client binary by that minor, so it must name a real Kubernetes minor.
 */
export const EMULATED_KUBERNETES = { major: '1', minor: '35', patch: '0' };

function ownVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function versionInfo(buildDate = new Date(0).toISOString()) {
  const k = EMULATED_KUBERNETES;
  return {
    major: k.major,
    minor: k.minor,
    emulationMajor: k.major,
    emulationMinor: k.minor,
    gitVersion: `v${k.major}.${k.minor}.${k.patch}+volumesnapshot-apiserver.${ownVersion()}`,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate,
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
