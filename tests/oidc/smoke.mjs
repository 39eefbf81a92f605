#!/usr/bin/env node
// Smoke test of tests/oidc/provider.mjs: starts it, then drives authorization code
// flows with PKCE using plain fetch (manual redirects, a tiny cookie jar).
//
//   node tests/oidc/smoke.mjs        (from the repository root, after `npm ci`)
//
// Prints `ok - …` lines; exits non-zero on the first failure. The provider child
// process is stopped in all cases.
//
// SPDX-License-Identifier: AGPL-3.0-or-later

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const providerScript = path.join(here, 'provider.mjs');

const CLIENT = {
  client_id: 'amenda-test',
  client_secret: 'amenda-test-secret',
  redirect_uris: ['http://127.0.0.1:9/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1:9/signed-out'],
};
const REDIRECT_URI = CLIENT.redirect_uris[0];
const CONFIG = {
  clients: [CLIENT],
  accounts: [
    { sub: 'alice', username: 'alice', password: 'alice-pw', given_name: 'Alice', family_name: 'Martin', email: 'alice@example.test', acr: 'eidas1' },
    { sub: 'bob', username: 'bob', password: 'bob-pw', given_name: 'Bob', family_name: 'Bernard', email: 'bob@example.test', acr: 'eidas2' },
    { sub: 'carol', username: 'carol', password: 'carol-pw', given_name: 'Carol', family_name: 'Dubois', email: 'carol@example.test', acr: 'eidas3' },
  ],
};

let count = 0;
function ok(message) {
  count += 1;
  console.log(`ok ${count} - ${message}`);
}
function check(condition, message, detail) {
  if (!condition) {
    const error = new Error(`${message}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
    error.smoke = true;
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Child process

let child;
let childStdout = '';
let childStderr = '';
let tmpDir;

function startProvider(configFile) {
  child = spawn(process.execPath, [providerScript, configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OIDC_CONFIG: '' },
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { childStderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provider did not print its issuer within 15 s; stderr:\n${childStderr}`)), 15000);
    child.stdout.on('data', (d) => {
      const before = childStdout;
      childStdout += d;
      if (!before.includes('\n') && childStdout.includes('\n')) {
        clearTimeout(timer);
        resolve(childStdout.slice(0, childStdout.indexOf('\n')));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`provider exited early (code ${code}, signal ${signal}); stderr:\n${childStderr}`));
    });
  });
}

async function stopProvider() {
  if (!child || child.exitCode !== null || child.signalCode !== null) return null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 5000).unref());
  const result = await Promise.race([exited, timeout]);
  if (result === null) child.kill('SIGKILL');
  return result;
}

process.on('exit', () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(130));
}

// ---------------------------------------------------------------------------
// HTTP helpers: a tiny cookie jar (name + path, path-matched; no domains: one host)

class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path') cookiePath = v || '/';
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
      }
      const id = `${name}\u0000${cookiePath}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path: cookiePath });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const matches = [...this.#cookies.values()].filter((c) => pathname === c.path
      || (pathname.startsWith(c.path) && (c.path.endsWith('/') || pathname[c.path.length] === '/')));
    matches.sort((a, b) => b.path.length - a.path.length);
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

async function request(jar, url, { method = 'GET', form, headers = {} } = {}) {
  const cookie = jar.header(url);
  const init = { method, redirect: 'manual', headers: { ...headers } };
  if (cookie) init.headers.cookie = cookie;
  if (form) {
    init.body = new URLSearchParams(form).toString();
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(url, init);
  jar.store(response);
  const body = await response.text();
  return { status: response.status, location: response.headers.get('location'), body, url };
}

/**
 * Follows redirects from `url` until either a redirect to the client's redirect_uri
 * (returned as `{ callback: URL }`, never fetched) or a non-redirect response
 * (returned as `{ page }`).
 */
async function follow(jar, url, options) {
  let current = url;
  let response = await request(jar, current, options);
  for (let hops = 0; hops < 20; hops += 1) {
    if (response.status < 300 || response.status >= 400) return { page: response };
    check(response.location, 'redirect without Location', response.status);
    const next = new URL(response.location, current);
    if (next.href.startsWith(`${REDIRECT_URI}?`) || next.href === REDIRECT_URI) return { callback: next };
    current = next.href;
    response = await request(jar, current);
  }
  throw new Error(`too many redirects from ${url}`);
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function authorizationUrl(discovery, { acrValues, prompt, pkce = true, redirectUri = REDIRECT_URI } = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const url = new URL(discovery.authorization_endpoint);
  url.searchParams.set('client_id', CLIENT.client_id);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid profile email');
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  if (pkce) {
    url.searchParams.set('code_challenge', crypto.createHash('sha256').update(verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
  }
  if (acrValues) url.searchParams.set('acr_values', acrValues);
  if (prompt) url.searchParams.set('prompt', prompt);
  return { url: url.href, verifier, state, nonce };
}

function loginFormAction(page) {
  check(page.status === 200 || page.status === 401, 'login page status', page.status);
  for (const needle of ['id="username"', 'id="password"', 'id="sign-in"', 'for="username"', 'for="password"']) {
    check(page.body.includes(needle), `login page has ${needle}`, page.body);
  }
  const match = /<form method="post" action="(\/interaction\/[A-Za-z0-9_-]+\/login)">/.exec(page.body);
  check(match, 'login form action', page.body);
  return new URL(match[1], page.url).href;
}

/** Runs an authorization request to its callback, signing in with `user` if asked to. */
async function signIn(jar, discovery, { user, password, acrValues, prompt = 'login', expectLoginForm = true }) {
  const auth = authorizationUrl(discovery, { acrValues, prompt });
  let result = await follow(jar, auth.url);
  if (expectLoginForm) {
    check(result.page, 'authorization request shows the login form', result.callback?.href);
    const action = loginFormAction(result.page);
    result = await follow(jar, action, { method: 'POST', form: { username: user, password } });
  }
  check(result.callback, 'authorization ends with a redirect to redirect_uri',
    result.page && `${result.page.status} ${result.page.body.slice(0, 500)}`);
  const params = result.callback.searchParams;
  check(!params.has('error'), 'no error in the authorization response', Object.fromEntries(params));
  check(params.get('state') === auth.state, 'state is returned unchanged');
  check(params.get('iss') === discovery.issuer, 'iss authorization response parameter (RFC 9207)', params.get('iss'));
  check(params.get('code'), 'code in the authorization response');
  return { ...auth, code: params.get('code') };
}

async function tokenRequest(discovery, { code, verifier, auth = 'basic', secret = CLIENT.client_secret }) {
  const form = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  };
  const headers = { accept: 'application/json' };
  if (auth === 'basic') {
    const enc = (s) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(CLIENT.client_id)}:${enc(secret)}`).toString('base64')}`;
  } else {
    form.client_id = CLIENT.client_id;
    form.client_secret = secret;
  }
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, json: await response.json() };
}

async function verifyIdToken(discovery, idToken, nonce) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  check(header.alg === 'RS256', 'ID token alg RS256', header);
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  check(jwk, 'ID token kid is in the JWKS', header.kid);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  check(crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), 'ID token signature verifies against the JWKS');
  const now = Math.floor(Date.now() / 1000);
  check(payload.iss === discovery.issuer, 'ID token iss', payload.iss);
  check(payload.aud === CLIENT.client_id || (Array.isArray(payload.aud) && payload.aud.includes(CLIENT.client_id)), 'ID token aud', payload.aud);
  check(payload.nonce === nonce, 'ID token nonce', payload.nonce);
  check(payload.exp > now && payload.iat <= now + 5, 'ID token exp/iat', { exp: payload.exp, iat: payload.iat });
  check(Number.isInteger(payload.auth_time) && payload.auth_time <= now + 5, 'ID token auth_time', payload.auth_time);
  check(JSON.stringify(payload.amr) === '["pwd"]', 'ID token amr', payload.amr);
  return payload;
}

// ---------------------------------------------------------------------------

async function main() {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'amenda-oidc-smoke-'));
  const configFile = path.join(tmpDir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(CONFIG));

  const issuer = await startProvider(configFile);
  check(/^http:\/\/127\.0\.0\.1:\d+$/.test(issuer), 'first stdout line is the issuer', issuer);
  ok(`provider started, issuer ${issuer}`);

  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  check(discovery.issuer === issuer, 'discovery issuer', discovery.issuer);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint']) {
    check(typeof discovery[k] === 'string' && discovery[k].startsWith(`${issuer}/`), `discovery ${k}`, discovery[k]);
  }
  check(JSON.stringify(discovery.acr_values_supported) === '["eidas1","eidas2","eidas3"]', 'acr_values_supported', discovery.acr_values_supported);
  check(JSON.stringify(discovery.code_challenge_methods_supported) === '["S256"]', 'code_challenge_methods_supported', discovery.code_challenge_methods_supported);
  ok('discovery document');

  // bob (eidas2) asks for eidas2 with prompt=login.
  const bobJar = new CookieJar();
  const bob = await signIn(bobJar, discovery, { user: 'bob', password: 'bob-pw', acrValues: 'eidas2' });
  const bobToken = await tokenRequest(discovery, { code: bob.code, verifier: bob.verifier });
  check(bobToken.status === 200, 'token response 200', bobToken);
  check(bobToken.json.token_type === 'Bearer' && bobToken.json.access_token && bobToken.json.id_token, 'token response fields', bobToken.json);
  const bobId = await verifyIdToken(discovery, bobToken.json.id_token, bob.nonce);
  check(bobId.sub === 'bob', 'ID token sub', bobId.sub);
  check(bobId.acr === 'eidas2', 'bob asking for eidas2 gets acr eidas2', bobId.acr);
  ok('bob: code flow with PKCE S256, client_secret_basic; ID token iss/aud/nonce/signature, acr eidas2, amr [pwd]');

  const userinfo = await (await fetch(discovery.userinfo_endpoint, {
    headers: { authorization: `Bearer ${bobToken.json.access_token}` },
  })).json();
  check(userinfo.sub === 'bob' && userinfo.given_name === 'Bob' && userinfo.family_name === 'Bernard'
    && userinfo.email === 'bob@example.test', 'userinfo claims', userinfo);
  ok('userinfo returns given_name, family_name, email');

  const replay = await tokenRequest(discovery, { code: bob.code, verifier: bob.verifier });
  check(replay.status === 400 && replay.json.error === 'invalid_grant', 'second redemption fails with invalid_grant', replay);
  const revoked = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${bobToken.json.access_token}` } });
  check(revoked.status === 401, 'the access token of the first redemption is revoked', revoked.status);
  ok('a code cannot be redeemed twice (invalid_grant; the first access token is revoked)');

  // alice (eidas1) asks for eidas2: signs in, but only at eidas1.
  const aliceJar = new CookieJar();
  const alice = await signIn(aliceJar, discovery, { user: 'alice', password: 'alice-pw', acrValues: 'eidas2' });
  const aliceToken = await tokenRequest(discovery, { code: alice.code, verifier: alice.verifier, auth: 'post' });
  check(aliceToken.status === 200, 'token response 200 (client_secret_post)', aliceToken);
  const aliceId = await verifyIdToken(discovery, aliceToken.json.id_token, alice.nonce);
  check(aliceId.acr === 'eidas1', 'alice asking for eidas2 gets acr eidas1', aliceId.acr);
  ok('alice asking for eidas2 gets acr eidas1 (client_secret_post)');

  // carol (eidas3): without acr_values she gets her max; asking eidas2 she gets eidas2.
  const carolJar = new CookieJar();
  const carol = await signIn(carolJar, discovery, { user: 'carol', password: 'carol-pw' });
  const carolToken = await tokenRequest(discovery, { code: carol.code, verifier: carol.verifier });
  check((await verifyIdToken(discovery, carolToken.json.id_token, carol.nonce)).acr === 'eidas3', 'carol without acr_values gets eidas3');
  const carol2 = await signIn(carolJar, discovery, { user: 'carol', password: 'carol-pw', acrValues: 'eidas2' });
  const carol2Token = await tokenRequest(discovery, { code: carol2.code, verifier: carol2.verifier });
  check((await verifyIdToken(discovery, carol2Token.json.id_token, carol2.nonce)).acr === 'eidas2', 'carol asking for eidas2 gets eidas2');
  ok('carol: no acr_values -> eidas3; acr_values=eidas2 -> eidas2; prompt=login shows the form again in the same jar');

  // Session reuse and step-up in one jar (no prompt=login).
  const stepJar = new CookieJar();
  const low = await signIn(stepJar, discovery, { user: 'bob', password: 'bob-pw', acrValues: 'eidas1', prompt: null });
  const lowToken = await tokenRequest(discovery, { code: low.code, verifier: low.verifier });
  check((await verifyIdToken(discovery, lowToken.json.id_token, low.nonce)).acr === 'eidas1', 'bob asking for eidas1 gets eidas1');
  const sso = await signIn(stepJar, discovery, { acrValues: 'eidas1', prompt: null, expectLoginForm: false });
  const ssoToken = await tokenRequest(discovery, { code: sso.code, verifier: sso.verifier });
  check((await verifyIdToken(discovery, ssoToken.json.id_token, sso.nonce)).acr === 'eidas1', 'session reuse keeps eidas1');
  const up = await signIn(stepJar, discovery, { user: 'bob', password: 'bob-pw', acrValues: 'eidas2', prompt: null });
  const upToken = await tokenRequest(discovery, { code: up.code, verifier: up.verifier });
  check((await verifyIdToken(discovery, upToken.json.id_token, up.nonce)).acr === 'eidas2', 'step-up gives eidas2');
  ok('session reuse without login form when the session acr suffices; login form again for step-up to eidas2');

  const silent = authorizationUrl(discovery, { acrValues: 'eidas3', prompt: 'none' });
  const silentResult = await follow(stepJar, silent.url);
  check(silentResult.callback?.searchParams.get('error') === 'login_required'
    && silentResult.callback.searchParams.get('state') === silent.state, 'prompt=none above the session acr -> login_required',
  silentResult.callback?.href ?? silentResult.page?.status);
  ok('prompt=none asking above the session acr is answered with error=login_required');

  // Refusals.
  const noPkce = authorizationUrl(discovery, { acrValues: 'eidas2', prompt: 'login', pkce: false });
  const noPkceResult = await follow(new CookieJar(), noPkce.url);
  check(noPkceResult.callback, 'request without code_challenge is answered with an error redirect', noPkceResult.page?.body);
  check(noPkceResult.callback.searchParams.get('error') === 'invalid_request'
    && /PKCE/.test(noPkceResult.callback.searchParams.get('error_description')), 'error invalid_request about PKCE',
  Object.fromEntries(noPkceResult.callback.searchParams));
  check(!noPkceResult.callback.searchParams.has('code'), 'no code without PKCE');
  ok('an authorization request without code_challenge is refused (invalid_request)');

  const badRedirect = authorizationUrl(discovery, { redirectUri: 'http://127.0.0.1:9/elsewhere' });
  const badRedirectResult = await follow(new CookieJar(), badRedirect.url);
  check(badRedirectResult.page?.status === 400 && badRedirectResult.page.body.includes('redirect_uri'),
    'unregistered redirect_uri gets an error page, no redirect', badRedirectResult.page?.status);
  ok('an unregistered redirect_uri is refused without redirecting');

  const wrongJar = new CookieJar();
  const wrong = await follow(wrongJar, authorizationUrl(discovery, { prompt: 'login' }).url);
  const wrongPost = await follow(wrongJar, loginFormAction(wrong.page), { method: 'POST', form: { username: 'bob', password: 'nope' } });
  check(wrongPost.page?.status === 401 && wrongPost.page.body.includes('id="error"'), 'wrong password re-shows the form with an error', wrongPost.page?.status);
  loginFormAction(wrongPost.page);
  ok('a wrong password is refused (401, form shown again)');

  const cancelJar = new CookieJar();
  const cancelAuth = authorizationUrl(discovery, { prompt: 'login' });
  const cancelPage = await follow(cancelJar, cancelAuth.url);
  const cancelAction = loginFormAction(cancelPage.page).replace(/\/login$/, '/abort');
  check(cancelPage.page.body.includes(`action="${new URL(cancelAction).pathname}"`) && cancelPage.page.body.includes('id="cancel"'), 'cancel form');
  const cancelled = await follow(cancelJar, cancelAction, { method: 'POST', form: {} });
  check(cancelled.callback?.searchParams.get('error') === 'access_denied'
    && cancelled.callback.searchParams.get('state') === cancelAuth.state, 'cancel -> error=access_denied', cancelled.callback?.href);
  ok('cancelling the login returns error=access_denied to the client');

  const verifierJar = new CookieJar();
  const v = await signIn(verifierJar, discovery, { user: 'bob', password: 'bob-pw' });
  const badVerifier = await tokenRequest(discovery, { code: v.code, verifier: b64url(crypto.randomBytes(32)) });
  check(badVerifier.status === 400 && badVerifier.json.error === 'invalid_grant', 'wrong code_verifier fails with invalid_grant', badVerifier);
  const s = await signIn(verifierJar, discovery, { user: 'bob', password: 'bob-pw' });
  const badSecret = await tokenRequest(discovery, { code: s.code, verifier: s.verifier, secret: 'wrong' });
  check(badSecret.status === 401 && badSecret.json.error === 'invalid_client', 'wrong client secret fails with invalid_client', badSecret);
  ok('a wrong code_verifier (invalid_grant) and a wrong client secret (invalid_client) are refused');

  // RP-initiated logout: confirmation page, then redirect to post_logout_redirect_uri.
  const logoutUrl = new URL(discovery.end_session_endpoint);
  logoutUrl.searchParams.set('id_token_hint', upToken.json.id_token);
  logoutUrl.searchParams.set('post_logout_redirect_uri', CLIENT.post_logout_redirect_uris[0]);
  logoutUrl.searchParams.set('state', 'bye');
  const logoutPage = await request(stepJar, logoutUrl.href);
  check(logoutPage.status === 200 && logoutPage.body.includes('id="logout-yes"'), 'logout confirmation page', logoutPage.status);
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"\/>/.exec(logoutPage.body);
  check(action, 'logout form', logoutPage.body);
  const confirm = await request(stepJar, action[1], { method: 'POST', form: { xsrf: action[2], logout: 'yes' } });
  check(confirm.status === 303 && confirm.location === `${CLIENT.post_logout_redirect_uris[0]}?state=bye`, 'logout redirects to post_logout_redirect_uri', confirm);
  await signIn(stepJar, discovery, { user: 'bob', password: 'bob-pw', acrValues: 'eidas1', prompt: null });
  ok('RP-initiated logout ends the session (the next request shows the login form)');

  check(!/NOTICE/.test(childStderr) && !/NOTICE/.test(childStdout), 'no oidc-provider NOTICE printed', childStderr);
  check(childStdout === `${issuer}\n`, 'nothing on stdout after the issuer line', childStdout);
  ok('no NOTICE; stdout holds only the issuer line');

  const stopped = await stopProvider();
  check(stopped && stopped.code === 0, 'provider exits with code 0 on SIGTERM', stopped);
  ok('provider stops cleanly on SIGTERM');
}

try {
  await main();
  console.log(`# ${count} checks passed`);
} catch (err) {
  console.log(`not ok - ${err.smoke ? err.message : err.stack}`);
  if (childStderr) process.stderr.write(`--- provider stderr ---\n${childStderr}`);
  process.exitCode = 1;
} finally {
  await stopProvider();
}
