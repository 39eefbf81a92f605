#!/usr/bin/env node
// Amenda test OpenID Provider: the certified `oidc-provider` npm package (9.13.3)
// on loopback, with its own minimal login and consent interactions that set `acr`
// per test account (FranceConnect style: eidas1, eidas2, eidas3).
//
//   node tests/oidc/provider.mjs [config.json]      (or OIDC_CONFIG='{"clients":…}')
//
// stdout: the issuer (`http://127.0.0.1:PORT`) as the first line, then nothing
// (unless OIDC_LOG=stdout: one JSON object per line). Everything else -> stderr.
// Runs until SIGTERM/SIGINT, or until its parent process goes away.
// See tests/oidc/README.md.
//
// SPDX-License-Identifier: AGPL-3.0-or-later

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

// Keep stdout for the issuer line (and opt-in JSON logs): anything a library prints
// with console.log/info/debug (oidc-provider prints NOTICE lines with console.info)
// goes to stderr instead. Set before oidc-provider is loaded (dynamic import below).
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
// A closed pipe must not crash the provider (EPIPE on a late write).
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const { default: Provider, interactionPolicy, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------
// Configuration

const ACR_LEVELS = { eidas1: 1, eidas2: 2, eidas3: 3 };
const ACR_VALUES = Object.keys(ACR_LEVELS);

const DEFAULT_CONFIG = {
  port: 0,
  clients: [
    {
      client_id: 'amenda-test',
      client_secret: 'amenda-test-secret',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      post_logout_redirect_uris: ['http://127.0.0.1:9/'],
    },
  ],
  accounts: [
    { sub: 'alice', username: 'alice', password: 'password', given_name: 'Alice', family_name: 'Martin', email: 'alice@example.test', acr: 'eidas1' },
    { sub: 'bob', username: 'bob', password: 'password', given_name: 'Bob', family_name: 'Bernard', email: 'bob@example.test', acr: 'eidas2' },
    { sub: 'carol', username: 'carol', password: 'password', given_name: 'Carol', family_name: 'Dubois', email: 'carol@example.test', acr: 'eidas3' },
  ],
};

function fail(message) {
  process.stderr.write(`oidc provider: ${message}\n`);
  process.exit(2);
}

function loadConfig() {
  let raw;
  let source;
  if (process.argv[2]) {
    source = process.argv[2];
    try {
      raw = fs.readFileSync(source, 'utf8');
    } catch (err) {
      fail(`cannot read config file ${source}: ${err.message}`);
    }
  } else if (process.env.OIDC_CONFIG) {
    source = 'OIDC_CONFIG';
    raw = process.env.OIDC_CONFIG;
  } else {
    return structuredClone(DEFAULT_CONFIG);
  }
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    fail(`${source} is not valid JSON: ${err.message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(`${source} must be a JSON object`);
  }
  return { ...structuredClone(DEFAULT_CONFIG), ...parsed };
}

function normaliseConfig(config) {
  const port = config.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('port must be an integer 0..65535');

  if (!Array.isArray(config.clients) || config.clients.length === 0) fail('clients must be a non-empty array');
  const clients = config.clients.map((c, i) => {
    if (!c || typeof c.client_id !== 'string' || !c.client_id) fail(`clients[${i}].client_id is required`);
    if (typeof c.client_secret !== 'string' || !c.client_secret) fail(`clients[${i}].client_secret is required`);
    if (!Array.isArray(c.redirect_uris) || c.redirect_uris.length === 0) fail(`clients[${i}].redirect_uris must be a non-empty array`);
    // Any other standard client metadata passes through unchanged (the provider
    // validates it); these are the defaults.
    return {
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      grant_types: ['authorization_code'],
      post_logout_redirect_uris: [],
      ...c,
    };
  });

  if (!Array.isArray(config.accounts) || config.accounts.length === 0) fail('accounts must be a non-empty array');
  const bySub = new Map();
  const byUsername = new Map();
  for (const [i, a] of config.accounts.entries()) {
    if (!a || typeof a.sub !== 'string' || !a.sub) fail(`accounts[${i}].sub is required`);
    if (!(a.acr in ACR_LEVELS)) fail(`accounts[${i}].acr must be one of ${ACR_VALUES.join(', ')}`);
    const account = { ...a, username: a.username ?? a.sub };
    if (bySub.has(account.sub)) fail(`duplicate account sub ${account.sub}`);
    if (byUsername.has(account.username)) fail(`duplicate account username ${account.username}`);
    bySub.set(account.sub, account);
    byUsername.set(account.username, account);
  }
  if (config.tamper !== undefined && typeof config.tamper !== 'boolean') fail('tamper must be true or false');
  return { port, clients, bySub, byUsername, tamper: config.tamper === true };
}

const config = normaliseConfig(loadConfig());

// ---------------------------------------------------------------------------
// Logging (opt-in: OIDC_LOG=stdout or OIDC_LOG=stderr, one JSON object per line)

const logTarget = process.env.OIDC_LOG;
function log(event, fields = {}) {
  if (logTarget !== 'stdout' && logTarget !== 'stderr') return;
  const line = `${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`;
  (logTarget === 'stdout' ? process.stdout : process.stderr).write(line);
}

// ---------------------------------------------------------------------------
// acr selection

/** The acr values of a space-separated `acr_values` parameter that this provider knows. */
function requestedAcrs(acrValues) {
  if (typeof acrValues !== 'string') return [];
  return acrValues.split(' ').filter((v) => v in ACR_LEVELS);
}

/**
 * The acr a login by `account` gets: the highest requested value the account can
 * reach; if it can reach none of them (or none was requested), the account's own
 * maximum level. The relying party must refuse an acr below what it asked for.
 */
function chooseAcr(account, acrValues) {
  const max = ACR_LEVELS[account.acr];
  const reachable = requestedAcrs(acrValues).filter((v) => ACR_LEVELS[v] <= max);
  if (reachable.length === 0) return account.acr;
  return reachable.reduce((best, v) => (ACR_LEVELS[v] > ACR_LEVELS[best] ? v : best));
}

// Step-up: an existing session whose acr is below every requested acr value is not
// enough, so the login prompt is shown again (even without prompt=login). Right after
// a login in this same authorization request, it is accepted whatever its acr
// (the account may not reach the level: the relying party decides).
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'acr_values_step_up',
  'the session does not reach the requested acr_values',
  'login_required',
  (ctx) => {
    const { oidc } = ctx;
    const requested = requestedAcrs(oidc.params.acr_values);
    if (requested.length === 0 || !oidc.session.accountId || oidc.result?.login) {
      return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }
    const have = ACR_LEVELS[oidc.session.acr] ?? 0;
    const need = Math.min(...requested.map((v) => ACR_LEVELS[v]));
    return have < need
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  },
));

// ---------------------------------------------------------------------------
// Pages (plain HTML, no JavaScript)

function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – Amenda test provider</title>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function loginPage({ uid, clientId, acrValues, username, error }) {
  return page('Sign in', `<p>Signing in to <strong id="client">${esc(clientId)}</strong>${
    acrValues ? ` (requested acr_values: <span id="acr-values">${esc(acrValues)}</span>)` : ''}.</p>
${error ? `<p id="error" role="alert">${esc(error)}</p>\n` : ''}<form method="post" action="/interaction/${esc(uid)}/login">
<p><label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required value="${esc(username)}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button id="sign-in" type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<p><button id="cancel" type="submit">Cancel</button></p>
</form>`);
}

function send(res, status, html, extraHeaders = {}) {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'",
    'X-Content-Type-Options': 'nosniff',
    ...extraHeaders,
  });
  res.end(body);
}

function readForm(req, limit = 16 * 1024) {
  return new Promise((resolve, reject) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      reject(Object.assign(new Error('expected an application/x-www-form-urlencoded body'), { status: 415 }));
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function passwordMatches(account, given) {
  if (account.password === undefined || account.password === null) return true;
  const a = crypto.createHash('sha256').update(String(account.password)).digest();
  const b = crypto.createHash('sha256').update(String(given ?? '')).digest();
  return crypto.timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------
// Provider

const ttl = {
  AccessToken: 600,
  AuthorizationCode: 60,
  BackchannelAuthenticationRequest: 600,
  ClientCredentials: 600,
  DeviceCode: 600,
  Grant: 3600,
  IdToken: 600,
  Interaction: 600,
  PreAuthorizedCode: 600,
  RefreshToken: 3600,
  Session: 3600,
};

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  });
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
  },
  acrValues: ACR_VALUES,
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid'],
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  allowOmittingSingleRegisteredRedirectUri: false,
  pkce: { required: () => true },
  ttl,
  interactions: {
    policy,
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = page('Sign out', `${form}
<p>Sign out from the Amenda test provider?</p>
<p><button id="logout-yes" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="logout-no" type="submit" form="op.logoutForm">No, stay signed in</button></p>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', Object.entries(out)
      .map(([k, v]) => `<p><strong>${esc(k)}</strong>: <span id="${esc(k)}">${esc(v)}</span></p>`)
      .join('\n'));
  },
  clientBasedCORS: () => false,
  async findAccount(ctx, sub) {
    const account = config.bySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      async claims() {
        const claims = { sub: account.sub };
        if (account.given_name !== undefined) claims.given_name = account.given_name;
        if (account.family_name !== undefined) claims.family_name = account.family_name;
        const name = [account.given_name, account.family_name].filter(Boolean).join(' ');
        if (name) claims.name = name;
        if (account.email !== undefined) {
          claims.email = account.email;
          claims.email_verified = true;
        }
        return claims;
      },
    };
  },
});

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`oidc provider: server_error: ${err?.stack ?? err}\n`);
});
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error']) {
  provider.on(event, (ctx, err) => log(event, { error: err?.error, description: err?.error_description }));
}
provider.on('grant.success', (ctx) => log('grant.success', { client: ctx.oidc.client?.clientId }));

// ---------------------------------------------------------------------------
// Interactions: GET /interaction/:uid, POST /interaction/:uid/login, POST /interaction/:uid/abort

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;

async function interaction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      send(res, 400, page('Error', `<p id="error">${esc(err.error_description ?? err.message)}</p>`));
      return;
    }
    throw err;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Error', '<p id="error">interaction and cookie do not match</p>'));
    return;
  }
  const { prompt, params } = details;

  if (action === undefined) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, page('Error', '<p>method not allowed</p>'), { Allow: 'GET' });
      return;
    }
    if (prompt.name === 'login') {
      send(res, 200, loginPage({
        uid, clientId: params.client_id, acrValues: params.acr_values, username: params.login_hint,
      }));
      return;
    }
    if (prompt.name === 'consent') {
      // Auto-consent: grant what the request asked for (scopes openid, profile, email
      // and their claims; the provider filters out anything it does not support).
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      log('consent', { account: details.session.accountId, client: params.client_id });
      // mergeWithLastSubmission keeps the login result of this same request.
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    send(res, 501, page('Error', `<p id="error">unsupported prompt ${esc(prompt.name)}</p>`));
    return;
  }

  if (req.method !== 'POST') {
    send(res, 405, page('Error', '<p>method not allowed</p>'), { Allow: 'POST' });
    return;
  }

  if (action === 'abort') {
    log('abort', { client: params.client_id });
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  // action === 'login'
  if (prompt.name !== 'login') {
    send(res, 400, page('Error', '<p id="error">no login is pending for this interaction</p>'));
    return;
  }
  const form = await readForm(req);
  const username = form.get('username') ?? '';
  const account = config.byUsername.get(username);
  if (!account || !passwordMatches(account, form.get('password'))) {
    log('login.failed', { username });
    send(res, 401, loginPage({
      uid, clientId: params.client_id, acrValues: params.acr_values, username, error: 'Invalid username or password.',
    }));
    return;
  }
  const acr = chooseAcr(account, params.acr_values);
  log('login', { account: account.sub, acr, acr_values: params.acr_values ?? null });
  await provider.interactionFinished(req, res, {
    login: { accountId: account.sub, acr, amr: ['pwd'], remember: true },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------
// Tampering (only with "tamper": true in the config; never in a real provider): the
// relying party's negative tests ask, through `POST /test/tamper` with a body
// `mode=…`, that the NEXT token response carry a bad ID token. Modes re-signed with the
// provider's own key (so that only the named check can catch them): iss, aud, expired,
// nonce, azp; and: signature (one flipped byte), none (alg "none", no signature),
// other-key (a valid signature by a key the provider never published), no-id-token.

const TAMPER_MODES = new Set(['iss', 'aud', 'expired', 'nonce', 'azp', 'signature', 'none', 'other-key', 'no-id-token']);
let tamperNext = null;
const { SignJWT, importJWK, decodeJwt, decodeProtectedHeader } = await import('jose');
const realKey = await importJWK(signingKey, 'RS256');
const strangerKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

async function tamperToken(idToken, mode) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const sign = (c, key = realKey) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: header.kid, typ: header.typ }).sign(key);
  switch (mode) {
    case 'iss': return sign({ ...claims, iss: 'http://127.0.0.1:1' });
    case 'aud': return sign({ ...claims, aud: 'someone-else' });
    case 'azp': return sign({ ...claims, aud: [claims.aud, 'someone-else'].flat(), azp: 'someone-else' });
    case 'expired': return sign({ ...claims, iat: now - 7200, exp: now - 3600 });
    case 'nonce': return sign({ ...claims, nonce: 'not-the-nonce-that-was-sent' });
    case 'other-key': return sign(claims, strangerKey);
    case 'signature': {
      const [h, p, sig] = idToken.split('.');
      const bytes = Buffer.from(sig, 'base64url');
      bytes[10] ^= 0x01;
      return `${h}.${p}.${bytes.toString('base64url')}`;
    }
    case 'none': {
      const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', typ: header.typ })}.${enc(claims)}.`;
    }
    default: throw new Error(`unknown tamper mode ${mode}`);
  }
}

if (config.tamper) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token' || ctx.status !== 200 || !tamperNext || !ctx.body?.id_token) return;
    const mode = tamperNext;
    tamperNext = null;
    log('tamper', { mode });
    if (mode === 'no-id-token') {
      const { id_token: _dropped, ...rest } = ctx.body;
      ctx.body = rest;
      return;
    }
    ctx.body = { ...ctx.body, id_token: await tamperToken(ctx.body.id_token, mode) };
  });
}

async function tamperRequest(req, res) {
  if (req.method !== 'POST') {
    send(res, 405, 'POST mode=…', { Allow: 'POST' });
    return;
  }
  const mode = (await readForm(req)).get('mode');
  if (!TAMPER_MODES.has(mode)) {
    send(res, 400, `unknown mode; one of ${[...TAMPER_MODES].join(', ')}`);
    return;
  }
  tamperNext = mode;
  send(res, 200, `next token response: ${mode}`);
}

const providerCallback = provider.callback();

server.on('request', (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  if (config.tamper && pathname === '/test/tamper') {
    tamperRequest(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, String(err?.message));
    });
    return;
  }
  const match = INTERACTION_PATH.exec(pathname);
  if (!match) {
    providerCallback(req, res);
    return;
  }
  interaction(req, res, match[1], match[2]).catch((err) => {
    const status = err?.status ?? 500;
    if (status >= 500) process.stderr.write(`oidc provider: interaction error: ${err?.stack ?? err}\n`);
    if (!res.headersSent) send(res, status, page('Error', `<p id="error">${esc(err?.message)}</p>`));
    else res.destroy();
  });
});

// The harness reads this line.
process.stdout.write(`${issuer}\n`);
log('listening', { issuer });

// ---------------------------------------------------------------------------
// Lifetime: exit cleanly on SIGTERM/SIGINT, and when the parent process goes away
// (a test binary that exits or panics without killing us re-parents us).

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  log('stop', { signal });
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) stop('parent-exit');
}, 500).unref();
