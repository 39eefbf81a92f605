// Starting and stopping the Amenda server under test.
//
// The server runs the `demo` command on a fresh data directory, so every run
// starts from the same demo bills and leaves nothing behind.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Ask the kernel for a free port on 127.0.0.1 (bind to 0, read it, release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Last lines of the server log, to show why a start failed. */
function logTail(logPath, lines = 20) {
  try {
    return fs.readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty log)';
  } catch {
    return '(no log)';
  }
}

/**
 * Spawn `<bin> --data <tmpdir> <command> --port <port>` in `cwd` (command `demo`
 * unless told otherwise, port free unless given) and wait until
 * GET / answers 200. Returns { baseUrl, stop } where stop() is idempotent and
 * also has a synchronous variant stopSync() for signal/exit handlers.
 */
export async function startServer({
  bin, cwd, logPath, timeoutMs = 120_000, command = 'demo', port = null, dataFiles = {},
}) {
  if (!fs.existsSync(bin)) {
    throw new Error(`server binary not found: ${bin} (build it first: cargo build)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'amenda-browser-'));
  // Files to put in the data folder first (e.g. amenda.toml for `serve`).
  for (const [name, text] of Object.entries(dataFiles)) fs.writeFileSync(path.join(dataDir, name), text);
  port ??= await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  // The log file gets both streams; handing the fd to the child means the
  // output is kept even if this process dies abruptly.
  const logFd = fs.openSync(logPath, 'w');
  const child = spawn(bin, ['--data', dataDir, command, '--port', String(port)], {
    cwd,
    stdio: ['ignore', logFd, logFd],
    env: { RUST_BACKTRACE: '1', ...process.env },
  });
  fs.closeSync(logFd); // the child holds its own copy

  let exited = null; // { code, signal } once the child is gone
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.on('error', (err) => {
      exited = { code: null, signal: null, err };
      resolve();
    });
  });

  let stopped = false;
  const removeDataDir = () => fs.rmSync(dataDir, { recursive: true, force: true });

  // Synchronous: usable from process 'exit' and signal handlers.
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    if (!exited) child.kill('SIGKILL');
    removeDataDir();
  };

  // Graceful: SIGTERM, give it 5 s, then SIGKILL; remove the data dir only
  // once the server is gone so it cannot write into a half-deleted tree.
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const done = await Promise.race([exitPromise.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    }
    removeDataDir();
  };

  // Poll GET / until 200, the child dies, or the deadline passes.
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (exited) {
      stopSync();
      const why = exited.err ? exited.err.message : `code ${exited.code}, signal ${exited.signal}`;
      throw new Error(`server exited before answering (${why}); log tail:\n${logTail(logPath)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer(); // drain so the connection is released
      if (res.status === 200) return { baseUrl, stop, stopSync };
      lastError = `GET / answered ${res.status}`;
    } catch (err) {
      lastError = err.cause?.code ?? err.message;
    }
    await sleep(250);
  }
  stopSync();
  throw new Error(`server not ready after ${timeoutMs / 1000} s (${lastError}); log tail:\n${logTail(logPath)}`);
}
