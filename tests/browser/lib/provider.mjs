// Starting the OpenID Connect test provider (tests/oidc/provider.mjs) for a browser
// scenario: its configuration comes from OIDC_CONFIG, its issuer from its first line.

import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'oidc', 'provider.mjs');

/** Starts the provider with `config`; returns { issuer, stop }. */
export async function startProvider(config) {
  const child = spawn(process.execPath, [script], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, OIDC_CONFIG: JSON.stringify(config), OIDC_LOG: '' },
  });
  const lines = readline.createInterface({ input: child.stdout });
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OpenID provider did not start within 20 s')), 20_000);
    lines.once('line', (line) => { clearTimeout(timer); resolve(line.trim()); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the OpenID provider exited (${code})`)); });
  });
  lines.on('line', () => {}); // keep draining
  const stop = () => { if (child.exitCode === null) child.kill('SIGTERM'); };
  process.on('exit', stop);
  return { issuer, stop };
}
