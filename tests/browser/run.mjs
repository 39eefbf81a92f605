#!/usr/bin/env node
// Amenda browser test suite: drives headless Chromium (Debian's /usr/bin/chromium)
// through the site like a user, runs axe-core on every page it visits and saves
// screenshots. Output is TAP-like, ending with "N passed, M failed".
//
// Usage (from anywhere):   node tests/browser/run.mjs [name-filter]
// Environment:
//   AMENDA_BIN                path to the server binary (default target/debug/amenda,
//                             relative to the repo root)
//   ARTIFACTS_DIR             where screenshots and server.log go
//                             (default target/browser-artifacts, relative to the repo root)
//   AMENDA_BROWSER_BASE_URL   test an already running server instead of spawning one
//   CHROMIUM_PATH             browser executable (default /usr/bin/chromium)

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, startServer } from './lib/server.mjs';
import { startProvider } from './lib/provider.mjs';
import { auditPage, clickAndWaitForLoad, expect, h1Text, htmlLang, screenshot } from './lib/check.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.resolve(repoRoot, process.env.AMENDA_BIN || 'target/debug/amenda');
const artifactsDir = path.resolve(repoRoot, process.env.ARTIFACTS_DIR || 'target/browser-artifacts');
const axePath = path.join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const filter = process.argv[2] || '';

// The background-networking flags matter: on a closed network Chromium's
// own update/sync connections are refused and can stall or crash it.
// --disable-dev-shm-usage avoids crashes in containers with a tiny /dev/shm.
const launchOptions = {
  executablePath: chromiumPath,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage',
  ],
};

// ---------------------------------------------------------------- scenarios
// Each scenario gets { page, context, base, audit } and throws on failure.
// audit(name) runs axe + screenshot for the current page; its findings are
// collected and reported when the scenario ends.

const BILL_LINK = 'a[href^="/bills/"]';

/** Go to the home page and open the first bill with a real click; returns the bill URL. */
async function openFirstBill(page, base) {
  await page.goto(`${base}/`);
  await clickAndWaitForLoad(page, page.locator(BILL_LINK), 'first bill link on the home page');
  return page.url();
}

const scenarios = [
  {
    name: 'open a bill',
    async run({ page, base, audit }) {
      const res = await page.goto(`${base}/`);
      expect(res.status() === 200, `GET / answered ${res.status()}`);
      const lang = await htmlLang(page);
      expect(['fr', 'en'].includes(lang), `<html lang> is "${lang}", expected fr or en`);
      await h1Text(page);
      expect((await page.locator(BILL_LINK).count()) > 0, `no bill link (${BILL_LINK}) on the home page`);
      await audit('01-home');

      await clickAndWaitForLoad(page, page.locator(BILL_LINK), 'first bill link');
      expect(/^\/bills\/[^/]+\/?$/.test(new URL(page.url()).pathname), `bill link led to ${page.url()}`);
      await h1Text(page);
      const tocLinks = page.locator('nav#toc a[href]');
      expect((await tocLinks.count()) > 0, 'no links in the table of contents nav#toc');
      // A same-page TOC link must lead somewhere that exists.
      const tocHref = await tocLinks.first().getAttribute('href');
      if (tocHref.startsWith('#')) {
        const id = decodeURIComponent(tocHref.slice(1));
        expect(await page.evaluate((i) => !!document.getElementById(i), id), `TOC link ${tocHref} points to no element`);
      }
      const headings = page.locator('main :is(h2, h3, h4, h5, h6)[id]');
      expect((await headings.count()) > 0, 'no article headings with an id inside <main>');
      await audit('02-bill');
    },
  },
  {
    name: 'follow an article link',
    async run({ page, base, audit }) {
      await openFirstBill(page, base);
      await clickAndWaitForLoad(page, page.locator('a.article-link'), 'first a.article-link');
      const { pathname } = new URL(page.url());
      expect(/^\/bills\/[a-z0-9-]+\/articles\/[A-Za-z0-9_-]+$/.test(pathname), `article URL ${pathname} has the wrong shape`);
      const h1 = await h1Text(page);
      expect(/\barticle\b/i.test(h1), `article <h1> "${h1}" does not contain "Article"`);

      // Paragraph permalinks: some a.para-link must point at an element of the page.
      const targetId = await page.evaluate(() => {
        for (const a of document.querySelectorAll('a.para-link')) {
          const href = a.getAttribute('href') || '';
          if (href.startsWith('#') && document.getElementById(decodeURIComponent(href.slice(1)))) {
            return decodeURIComponent(href.slice(1));
          }
        }
        return null;
      });
      expect(targetId, 'no a.para-link pointing (href="#id") at an element of the page');
      // Clicking it should move to that paragraph like a user expects.
      await page.locator(`a.para-link[href="#${targetId}"]`).first().click();
      const hash = await page.evaluate(() => decodeURIComponent(location.hash));
      expect(hash === `#${targetId}`, `after clicking the paragraph link the hash is "${hash}"`);
      await audit('03-article');
    },
  },
  {
    name: 'compare two versions',
    async run({ page, base, audit }) {
      await openFirstBill(page, base);
      await clickAndWaitForLoad(page, page.locator('a#versions-link'), 'a#versions-link');
      const versionsUrl = page.url();
      expect(/^\/bills\/[a-z0-9-]+\/versions\/?$/.test(new URL(versionsUrl).pathname), `versions link led to ${versionsUrl}`);
      expect((await page.locator('table').count()) > 0, 'no table of versions');
      const form = page.locator('form#compare');
      expect((await form.count()) === 1, 'no form#compare');
      const method = ((await form.getAttribute('method')) || 'get').toLowerCase();
      expect(method === 'get', `form#compare uses method="${method}", expected GET`);
      for (const sel of ['select[name=from]', 'select[name=to]', 'input[name=mode][value=inline]',
        'input[name=mode][value=columns]', 'input[type=checkbox][name=changed]']) {
        expect((await form.locator(sel).count()) > 0, `form#compare has no ${sel}`);
      }
      const submit = form.locator('button[type=submit], button:not([type]), input[type=submit]');
      expect((await submit.count()) > 0, 'form#compare has no submit button');
      await audit('04-versions');

      // Versions offered in the "from" select (ignore an empty placeholder option).
      const values = await form.locator('select[name=from] option').evaluateAll(
        (opts) => opts.map((o) => o.value).filter((v) => v !== ''));
      expect(values.length >= 2, `only ${values.length} version(s) to compare; the demo needs at least 2`);
      const [first, last] = [values[0], values.at(-1)];

      // Inline diff, first version against the last one.
      await form.locator('select[name=from]').selectOption(first);
      await form.locator('select[name=to]').selectOption(last);
      await form.locator('input[name=mode][value=inline]').check();
      await clickAndWaitForLoad(page, submit, 'compare (inline)');
      let params = new URL(page.url()).searchParams;
      expect(params.get('from') === first && params.get('to') === last && params.get('mode') === 'inline',
        `inline diff URL ${page.url()} does not carry from=${first}&to=${last}&mode=inline`);
      expect((await page.locator('#diff-summary').count()) > 0, 'no #diff-summary on the inline diff');
      expect((await page.locator('main :is(ins, del)').count()) > 0, 'no <ins>/<del> inside <main> on the inline diff');
      await audit('05-diff-inline');

      // Back to the form; side by side, changed articles only.
      await page.goBack();
      expect(page.url() === versionsUrl, `going back led to ${page.url()}, not the versions page`);
      await form.locator('select[name=from]').selectOption(first);
      await form.locator('select[name=to]').selectOption(last);
      await form.locator('input[name=mode][value=columns]').check();
      await form.locator('input[name=changed]').check();
      await clickAndWaitForLoad(page, submit, 'compare (columns, changed only)');
      params = new URL(page.url()).searchParams;
      expect(params.get('mode') === 'columns' && params.has('changed'),
        `columns diff URL ${page.url()} does not carry mode=columns&changed`);
      expect((await page.locator('.diff-columns').count()) > 0, 'no .diff-columns on the columns diff');
      expect((await page.locator('main :is(ins, del)').count()) > 0, 'no <ins>/<del> inside <main> on the columns diff');
      await audit('06-diff-columns');
    },
  },
  {
    name: 'switch language',
    async run({ page, context, base, audit }) {
      await page.goto(`${base}/`);
      const before = await htmlLang(page);
      expect(['fr', 'en'].includes(before), `<html lang> is "${before}", expected fr or en`);
      const other = before === 'fr' ? 'en' : 'fr';
      const titleBefore = await h1Text(page);
      const link = page.locator(`nav#lang-switch a[hreflang=${other}]`);
      expect((await page.locator('nav#lang-switch').count()) > 0, 'no nav#lang-switch on the home page');
      await clickAndWaitForLoad(page, link, `nav#lang-switch a[hreflang=${other}]`);
      const after = await htmlLang(page);
      expect(after === other, `after switching, <html lang> is "${after}", expected "${other}"`);
      const titleAfter = await h1Text(page);
      expect(titleAfter !== titleBefore, `<h1> stayed "${titleAfter}" after switching language`);
      await audit(`07-home-${other}`);

      await page.reload();
      const reloaded = await htmlLang(page);
      expect(reloaded === other, `after reload, <html lang> is "${reloaded}": the choice did not persist`);
      expect((await context.cookies()).length > 0, 'the language choice set no cookie');
    },
  },
  {
    name: 'keyboard',
    async run({ page, base }) {
      const billUrl = await openFirstBill(page, base);
      await page.goto(billUrl); // a fresh load, so focus starts at the top of the document
      let focused = false;
      for (let i = 0; i < 5 && !focused; i++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate(() => document.activeElement?.matches('a.skip-link') ?? false);
      }
      expect(focused, 'a.skip-link did not receive focus within 5 Tab presses');
      const href = await page.evaluate(() => document.activeElement.getAttribute('href'));
      expect(href === '#main', `the skip link points to "${href}", expected "#main"`);
      await screenshot(page, path.join(artifactsDir, '09-bill-skip-link-focused.png'), { fullPage: false });
      expect(await page.evaluate(() => !!document.getElementById('main')), 'no element with id="main"');

      await page.keyboard.press('Enter');
      const where = await page.evaluate(() => ({ active: document.activeElement?.id ?? '', hash: location.hash }));
      expect(where.active === 'main' || where.hash === '#main',
        `after Enter on the skip link, focus is on "#${where.active}" and the hash is "${where.hash}"`);
    },
  },
  {
    name: 'demo sign-in and sign-out',
    async run({ page, base, audit }) {
      await page.goto(`${base}/`);
      await clickAndWaitForLoad(page, page.locator('a#signin-link'), 'a#signin-link');
      expect((await page.locator('form#demo-signin').count()) === 1, 'no form#demo-signin on the sign-in page');
      await audit('10-signin');
      await page.locator('input[name=person][value=claire]').check();
      await page.locator('input[name=level][value="2"]').check();
      await clickAndWaitForLoad(page, page.locator('#demo-signin-submit'), 'the demo sign-in button');
      expect(new URL(page.url()).pathname === '/', `after sign-in the page is ${page.url()}, expected the page we came from`);
      const menu = await page.locator('nav#user-menu').innerText();
      expect(menu.includes('Claire Fontaine'), `the header does not name the person: "${menu}"`);
      await page.goto(`${base}/account`);
      const account = await page.locator('main').innerText();
      expect(/(Level|Niveau) 2/.test(account), 'the account page does not show level 2');
      await audit('11-account');
      await clickAndWaitForLoad(page, page.locator('nav#user-menu button[type=submit]'), 'the sign-out button');
      expect((await page.locator('a#signin-link').count()) === 1, 'still signed in after signing out');
      const res = await page.goto(`${base}/account`);
      expect(new URL(page.url()).pathname === '/signin', `after sign-out /account led to ${page.url()}`);
      expect(res.status() === 200, `the sign-in page answered ${res.status()}`);
    },
  },
  {
    name: 'propose an amendment in the demo consultation',
    async run({ page, base, audit }) {
      // Signed in as a demo citizen at level 2 (the demo consultation asks 1 to amend).
      await page.goto(`${base}/signin?next=/`);
      await page.locator('input[name=person][value=camille]').check();
      await page.locator('input[name=level][value="2"]').check();
      await clickAndWaitForLoad(page, page.locator('#demo-signin-submit'), 'the demo sign-in button');
      await page.goto(`${base}/bills/budget-participatif`);
      await clickAndWaitForLoad(page, page.locator('#consultations-link'), 'the consultations link');
      await audit('14-consultations');
      await clickAndWaitForLoad(page, page.locator('ul.consultations a').first(), 'the demo consultation');
      await audit('15-consultation');
      await clickAndWaitForLoad(page, page.locator('table.articles a[href$="/amend"]').first(), 'propose an amendment');
      await audit('16-amend-form');
      const text = page.locator('textarea#text');
      const before = await text.inputValue();
      const first = before.split(/\s+/)[0];
      await text.fill(before.replace(first, 'Désormais'));
      // A script payload in the justification must stay text (see also the moderation scenario).
      await page.locator('textarea#justification').fill('Une formulation plus claire. <script>window.__xss=1</script><img src=x onerror="window.__xss=2">');
      await page.locator('input[name=disclosure][value=pseudonym]').check();
      await clickAndWaitForLoad(page, page.locator('#preview-button'), 'the preview button');
      expect((await page.locator('#preview ins').count()) > 0, 'the preview shows no inserted words');
      const wording = await page.locator('#preview ul.wording').innerText();
      expect(/(remplacer|replace)/.test(wording), `no formal wording in the preview: "${wording}"`);
      await audit('17-amend-preview');
      await clickAndWaitForLoad(page, page.locator('#file-button'), 'the file button');
      expect(/\/bills\/budget-participatif\/amendments\/\d+$/.test(page.url()), `after filing the page is ${page.url()}`);
      const h1 = await h1Text(page);
      expect(h1.startsWith('AM-budget-participatif-'), `the amendment page is titled "${h1}"`);
      const author = await page.locator('#author').innerText();
      expect(!author.includes('Camille'), `published under the pseudonym, but the author line says "${author}"`);
      expect((await page.evaluate(() => window.__xss || null)) === null, 'the justification payload ran');
      expect((await page.locator('.justification').first().innerText()).includes('<script>'), 'the justification is not shown as text');
      await audit('18-amendment');
      // Its author corrects it (rectifié): a new revision, the earlier one kept.
      await clickAndWaitForLoad(page, page.locator('#rectify'), 'the correct-this-amendment link');
      await audit('18b-rectify-form');
      const again = page.locator('textarea#text');
      await again.fill((await again.inputValue()).replace('Désormais', 'Dorénavant'));
      await clickAndWaitForLoad(page, page.locator('#preview-button'), 'the preview button (correction)');
      expect((await page.locator('#preview ins').count()) > 0, 'the correction preview shows no inserted words');
      await clickAndWaitForLoad(page, page.locator('#file-button'), 'the file-the-correction button');
      expect((await page.locator('#revisions .revision').count()) >= 1, 'no earlier revision on the amendment page');
      await audit('18c-amendment-rectified');
      // The filterable list, through its GET form.
      await clickAndWaitForLoad(page, page.locator('nav.breadcrumbs a').first(), 'the consultation breadcrumb');
      await clickAndWaitForLoad(page, page.locator('#all-amendments'), 'the all-amendments link');
      await page.locator('#filter-author').selectOption('pseudonym');
      await clickAndWaitForLoad(page, page.locator('#filter-button'), 'the filter button');
      expect(page.url().includes('author=pseudonym'), `the filter is not in the address: ${page.url()}`);
      expect((await page.locator('#amendments-table tbody tr').count()) >= 1, 'the filtered list is empty');
      await audit('18d-amendment-list');
      // The bill page (the demo consultation is on its latest version) counts it in its
      // table of contents, with a link to the article in the consultation.
      await page.goto(`${base}/bills/budget-participatif`);
      const activity = page.locator('#toc a.activity').first();
      expect((await activity.count()) === 1, 'no amendment count in the bill\'s table of contents');
      expect(/1 (amendement|amendment)/.test(await activity.innerText()), `the count says "${await activity.innerText()}"`);
      await clickAndWaitForLoad(page, activity, 'the count in the table of contents');
      expect(/\/consultations\/\d+\/articles\//.test(page.url()), `the count leads to ${page.url()}`);
    },
  },
  {
    name: 'comment on an article in the demo consultation',
    async run({ page, context, base, audit }) {
      await context.clearCookies();
      await page.goto(`${base}/signin?next=/`);
      await page.locator('input[name=person][value=yanis]').check();
      await page.locator('input[name=level][value="1"]').check();
      await clickAndWaitForLoad(page, page.locator('#demo-signin-submit'), 'the demo sign-in button');
      await page.goto(`${base}/bills/budget-participatif/consultations`);
      await clickAndWaitForLoad(page, page.locator('ul.consultations a').first(), 'the demo consultation');
      await clickAndWaitForLoad(page, page.locator('table.articles td.comments-count a').first(), 'the comments link');
      expect((await page.locator('form#comment-form').count()) === 1, 'no comment form on the article page');
      await audit('19-article-comments');
      await page.locator('select#comment-unit').selectOption({ index: 1 });
      await page.locator('textarea#comment-body').fill('Un **bon** article <script>alert(1)</script>');
      await clickAndWaitForLoad(page, page.locator('#comment-submit'), 'the comment button');
      expect(/#comment-\d+$/.test(page.url()), `after commenting the page is ${page.url()}`);
      const shown = await page.locator('.comment-body').allInnerTexts();
      expect(shown.some((t) => t.includes('bon article') && t.includes('<script>')),
        `the comment is not shown as text: ${JSON.stringify(shown)}`);
      expect((await page.locator('.comment-body strong').count()) >= 1, 'the markdown is not rendered');
      await audit('19b-article-commented');
      await context.clearCookies();
    },
  },
  {
    // Every user-written field carries a script payload: nothing may run (the context
    // bypasses the CSP, so only the escaping stands between the payload and a script).
    name: 'report, moderate and appeal; user-written text stays inert',
    async run({ page, context, base, audit }) {
      const payload = (tag) => `${tag} <script>window.__xss="${tag}"</script><img src=x onerror="window.__xss='${tag}'"> <svg onload="alert('${tag}')">`;
      const dialogs = [];
      page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
      const inert = async (where) => {
        const ran = await page.evaluate(() => window.__xss || null);
        expect(ran === null && dialogs.length === 0, `a payload ran on ${where}: ${ran} ${dialogs.join(' ')}`);
        expect((await page.locator('main script, main img[src="x"], main svg[onload]').count()) === 0,
          `a payload became markup on ${where}`);
      };
      const signIn = async (person, level) => {
        await context.clearCookies();
        await page.goto(`${base}/signin?next=/`);
        await page.locator(`input[name=person][value=${person}]`).check();
        await page.locator(`input[name=level][value="${level}"]`).check();
        await clickAndWaitForLoad(page, page.locator('#demo-signin-submit'), 'the demo sign-in button');
      };
      // Camille comments with a payload.
      await signIn('camille', 2);
      await page.goto(`${base}/bills/budget-participatif/consultations`);
      await clickAndWaitForLoad(page, page.locator('ul.consultations a').first(), 'the demo consultation');
      await clickAndWaitForLoad(page, page.locator('table.articles td.comments-count a').last(), 'the comments link');
      const articleUrl = page.url().split('#')[0];
      await page.locator('textarea#comment-body').fill(payload('comment'));
      await clickAndWaitForLoad(page, page.locator('#comment-submit'), 'the comment button');
      const commentId = page.url().split('#comment-')[1];
      expect(/^\d+$/.test(commentId || ''), `after commenting the page is ${page.url()}`);
      await inert('the article page');
      // Yanis reports it, with a payload in the details.
      await signIn('yanis', 1);
      await page.goto(`${articleUrl}#comment-${commentId}`);
      const item = page.locator(`li#comment-${commentId}`);
      await item.locator('details.report-form summary').click();
      await item.locator('input[name=reason][value=spam]').check();
      await item.locator('input[name=detail]').fill(payload('report'));
      await clickAndWaitForLoad(page, item.locator('details.report-form button[type=submit]'), 'the report button');
      expect((await page.locator('#notice-message').count()) === 1, 'no confirmation after reporting');
      await audit('30-report-recorded');
      // Dominique, moderator, works from the queue and hides it with a payload as reason.
      await signIn('dominique', 1);
      await clickAndWaitForLoad(page, page.locator('#queue-link'), 'the moderation queue link');
      const entry = page.locator(`#queue-comment-${commentId}`);
      expect((await entry.count()) === 1, 'the reported comment is not in the queue');
      expect((await entry.locator('ul.reports').innerText()).includes('<script>'), 'the report detail is not shown as text');
      await inert('the moderation queue');
      await audit('31-moderation-queue');
      await entry.locator('input[name=verdict][value=hide]').check();
      await entry.locator('select[name=rule]').selectOption('spam');
      await entry.locator('.decide-form input[name=reason]').fill(payload('reason'));
      await clickAndWaitForLoad(page, entry.locator('.decide-form button[type=submit]'), 'the decision button');
      expect((await page.locator('#decision-done').count()) === 1, 'no confirmation after deciding');
      await page.goto(`${base}/moderation/log`);
      expect((await page.locator('#log-verified').count()) === 1, 'the log is not verified');
      expect((await page.locator('#moderation-log').innerText()).includes('<script>'), 'the reason is not shown as text');
      await inert('the public moderation log');
      await audit('32-moderation-log');
      // Anyone sees the notice and the reason; signed-in people may open the moderated view.
      await page.goto(`${articleUrl}#comment-${commentId}`);
      expect((await item.locator('.moderated').count()) === 1, 'the hidden comment shows no notice');
      await item.locator('details.moderated-view summary').click();
      expect((await item.locator('details.moderated-view').innerText()).includes('<script>'), 'the moderated view is not text');
      await inert('the article page with a hidden comment');
      await audit('33-hidden-comment');
      // Camille appeals, with a payload; the same moderator cannot decide it.
      await signIn('camille', 2);
      await page.goto(`${base}/account`);
      await clickAndWaitForLoad(page, page.locator('#my-moderation-link'), 'the my-moderation link');
      await page.locator('#my-decisions textarea[name=body]').first().fill(payload('appeal'));
      await clickAndWaitForLoad(page, page.locator('#my-decisions button[type=submit]').first(), 'the appeal button');
      expect((await page.locator('#appeal-done').count()) === 1, 'no confirmation after appealing');
      await inert('my moderation page');
      await audit('34-my-moderation');
      await signIn('dominique', 1);
      await page.goto(`${base}/moderation/appeals`);
      expect((await page.locator('#appeals .appeal-body').first().innerText()).includes('<script>'), 'the appeal is not shown as text');
      expect((await page.locator('#appeals form').count()) === 0, 'the moderator may decide an appeal of their own decision');
      await inert('the appeals page');
      await audit('35-appeals');
      await context.clearCookies();
    },
  },
  {
    // Its own demo server: the vote moves the demo consultation past its amendment
    // phase, which the other scenarios need.
    name: 'vote, download the receipt, close and read the results',
    async run({ page, audit }) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const own = await startServer({
        bin, cwd: repoRoot, logPath: path.join(artifactsDir, 'server-vote.log'), port,
      });
      const signIn = async (person, level) => {
        await page.goto(`${base}/signin?next=/consultations/1`);
        await page.locator(`input[name=person][value=${person}]`).check();
        await page.locator(`input[name=level][value="${level}"]`).check();
        await clickAndWaitForLoad(page, page.locator('#demo-signin-submit'), 'the demo sign-in button');
      };
      const signOut = async () => {
        await clickAndWaitForLoad(page, page.locator('nav#user-menu button[type=submit]'), 'the sign-out button');
      };
      try {
        // Staff look at what will be put to the vote, keep every amendment, and open the vote.
        await signIn('claire', 1);
        await page.goto(`${base}/consultations/1`);
        await clickAndWaitForLoad(page, page.locator('#vote-settings-link'), 'the vote settings link');
        await audit('20-vote-settings');
        await page.locator('#which-all').check();
        await page.locator('#bill-item').check();
        await clickAndWaitForLoad(page, page.locator('#save-vote-settings'), 'the save button');
        expect(page.url().startsWith(`${base}/consultations/1/vote/settings`), `after saving the page is ${page.url()}`);
        expect(await page.locator('#bill-item').isChecked(), 'the bill item is not kept');
        expect((await page.locator('#settings-saved').count()) === 1, 'no confirmation after saving the settings');
        await page.goto(`${base}/consultations/1`);
        await clickAndWaitForLoad(page, page.locator('#advance-phase'), 'the next-phase button');
        expect((await page.locator('#vote-link').count()) === 1, 'no link to vote once voting is open');
        await signOut();
        // A citizen at level 2 votes with the form and downloads the receipt.
        await signIn('camille', 2);
        await page.goto(`${base}/consultations/1`);
        await clickAndWaitForLoad(page, page.locator('#vote-link'), 'the vote link');
        await audit('21-vote-form');
        const radios = page.locator('fieldset.ballot-item input[type=radio][value="0"]');
        expect((await radios.count()) >= 1, 'no option to choose');
        await radios.last().check();
        await page.locator('#disclosure-public').check();
        await clickAndWaitForLoad(page, page.locator('#cast-button'), 'the vote button');
        expect((await page.locator('#vote-recorded').count()) === 1, 'no confirmation after voting');
        await audit('22-vote-recorded');
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.locator('#receipt-link').click(),
        ]);
        const receipt = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
        expect(receipt.format === 'amenda-receipt-v1', `the receipt is ${JSON.stringify(receipt).slice(0, 80)}`);
        expect(receipt.index === 1 && receipt.inclusion_proof.length >= 1, 'the receipt has no proof');
        await page.goto(`${base}/consultations/1/ballots`);
        expect((await page.locator('#log-size').innerText()).trim() === '2', 'the log page does not count the ballot');
        await audit('23-ballot-log');
        await signOut();
        // Staff close; the results show charts and tables.
        await signIn('claire', 1);
        await page.goto(`${base}/consultations/1`);
        await clickAndWaitForLoad(page, page.locator('#close-link'), 'the close link');
        await audit('24-close');
        await clickAndWaitForLoad(page, page.locator('#close-button'), 'the close button');
        expect(page.url() === `${base}/consultations/1/results`, `after closing the page is ${page.url()}`);
        expect((await page.locator('svg.chart').count()) >= 2, 'no chart on the results page');
        expect((await page.locator('section.result table').count()) >= 1, 'no table beside the charts');
        await audit('25-results');
        // Camille chose a public vote: she is named on the public votes page.
        await clickAndWaitForLoad(page, page.locator('#public-votes-link'), 'the public votes link');
        expect((await page.locator('#public-votes').innerText()).includes('Camille Martin'), 'the public voter is not named');
        await audit('25b-public-votes');
        // The receipt, checked on the site.
        await page.goto(`${base}/receipts/check`);
        await page.locator('textarea#receipt').fill(JSON.stringify(receipt));
        await clickAndWaitForLoad(page, page.locator('#check-button'), 'the check button');
        expect((await page.locator('#check-valid').count()) === 1, 'the receipt is not found valid');
        expect((await page.locator('#check-counted').count()) === 1, 'the receipt does not say it is counted');
        await audit('26-receipt-check');
      } finally {
        await own.stop();
      }
    },
  },
  {
    // Its own server (`amenda serve` with amenda.toml naming the test provider), not
    // the demo: a real sign-in through the provider's pages, and RP-initiated logout.
    name: 'sign-in through an OpenID Connect provider',
    async run({ page, audit }) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const provider = await startProvider({
        clients: [{
          client_id: 'amenda-browser',
          client_secret: 'browser-secret',
          redirect_uris: [`${base}/signin/test/callback`],
          post_logout_redirect_uris: [`${base}/`],
        }],
      });
      const own = await startServer({
        bin,
        cwd: repoRoot,
        logPath: path.join(artifactsDir, 'server-oidc.log'),
        command: 'serve',
        port,
        dataFiles: {
          'amenda.toml': [
            '[[provider]]', 'id = "test"', 'name = "Test ID"', `issuer = "${provider.issuer}"`,
            'client_id = "amenda-browser"', 'client_secret = "browser-secret"', '',
          ].join('\n'),
        },
      });
      try {
        await page.goto(`${base}/`);
        await clickAndWaitForLoad(page, page.locator('a#signin-link'), 'a#signin-link');
        expect((await page.locator('form#demo-signin').count()) === 0, 'the demo form shows outside demo mode');
        await audit('12-signin-providers');
        await clickAndWaitForLoad(page, page.locator('ul.providers a', { hasText: 'Test ID' }), 'the Test ID button');
        expect(page.url().startsWith(provider.issuer), `not at the provider: ${page.url()}`);
        await page.locator('#username').fill('bob');
        await page.locator('#password').fill('password');
        await clickAndWaitForLoad(page, page.locator('#sign-in'), 'the provider\'s sign-in button');
        expect(page.url() === `${base}/`, `after the provider, the page is ${page.url()}`);
        const menu = await page.locator('nav#user-menu').innerText();
        expect(menu.includes('Bob Bernard'), `the header does not name the person: "${menu}"`);
        await page.goto(`${base}/account`);
        const account = await page.locator('main').innerText();
        expect(/(Level|Niveau) 2/.test(account), 'the account page does not show level 2');
        expect(account.includes('eidas2'), 'the account page does not say where the level comes from');
        await audit('13-account-oidc');
        // Sign out: Amenda, then the provider asks, then back home signed out.
        await clickAndWaitForLoad(page, page.locator('nav#user-menu button[type=submit]'), 'the sign-out button');
        expect(page.url().startsWith(`${provider.issuer}/session/end`), `sign-out did not reach the provider: ${page.url()}`);
        await clickAndWaitForLoad(page, page.locator('#logout-yes'), 'the provider\'s logout button');
        expect(page.url() === `${base}/`, `after logout the page is ${page.url()}`);
        expect((await page.locator('a#signin-link').count()) === 1, 'still signed in after signing out');
      } finally {
        await own.stop();
        provider.stop();
      }
    },
  },
  {
    name: '404 in the user\'s language',
    async run({ page, base, audit }) {
      let res = await page.goto(`${base}/bills/no-such-bill`);
      expect(res.status() === 404, `GET /bills/no-such-bill answered ${res.status()}, expected 404`);
      await h1Text(page);
      const lang = await htmlLang(page);
      expect(['fr', 'en'].includes(lang), `404 page <html lang> is "${lang}", expected fr or en`);
      await audit('08-404');

      // "In the user's language": after choosing the other language, the 404 follows.
      await page.goto(`${base}/`);
      const other = (await htmlLang(page)) === 'fr' ? 'en' : 'fr';
      await clickAndWaitForLoad(page, page.locator(`nav#lang-switch a[hreflang=${other}]`), `language switch to ${other}`);
      res = await page.goto(`${base}/bills/no-such-bill`);
      expect(res.status() === 404, `GET /bills/no-such-bill answered ${res.status()} in ${other}, expected 404`);
      await h1Text(page);
      const after = await htmlLang(page);
      expect(after === other, `after choosing ${other}, the 404 page has <html lang="${after}">`);
    },
  },
  {
    name: 'open data: datasets, columns, texts and feeds from the footer',
    async run({ page, base, audit }) {
      await page.goto(`${base}/`);
      await clickAndWaitForLoad(page, page.locator('#opendata-link'), 'the open-data link in the footer');
      await h1Text(page);
      await audit('09-opendata');
      // The licence, and each dataset with its columns behind a disclosure (no JS).
      const licence = page.locator('#opendata-licence a');
      expect(await licence.count() === 1, 'no licence link on /opendata');
      const columns = page.locator('#dataset-comments details');
      expect(!(await columns.locator('table').isVisible()), 'the columns table should start folded');
      await columns.locator('summary').focus();
      await page.keyboard.press('Enter');
      expect(await columns.locator('table').isVisible(), 'Enter on the summary did not show the columns');
      expect(await columns.locator('th code', { hasText: 'moderation_reason' }).count() === 1,
        'the comments dataset does not explain moderation_reason');
      // Every download link of a dataset answers with the file.
      for (const sel of ['#dataset-comments a[href$=".csv"]', '#dataset-bills a[href$=".json"]']) {
        const href = await page.locator(sel).first().getAttribute('href');
        const res = await page.request.get(`${base}${href}`);
        expect(res.status() === 200, `${href} answered ${res.status()}`);
        expect(res.headers()['etag'], `${href} has no ETag`);
      }
      // The texts of a bill, in markdown and Akoma Ntoso, and its feed.
      const bill = page.locator('section.bill-data').first();
      await bill.locator('summary').click();
      const xml = await bill.locator('a[href$=".xml"]').first().getAttribute('href');
      const res = await page.request.get(`${base}${xml}`);
      expect(res.status() === 200, `${xml} answered ${res.status()}`);
      expect((await res.text()).includes('akomaNtoso'), `${xml} is not Akoma Ntoso`);
      const feed = await bill.locator('a[href$="feed.atom"]').getAttribute('href');
      const atom = await page.request.get(`${base}${feed}`);
      expect(atom.status() === 200 && (await atom.text()).includes('<feed'), `${feed} is not an Atom feed`);
    },
  },
  {
    // Last: it moves the demo consultation on to the voting phase.
    name: 'staff rule, adopt and consolidate; who wrote this',
    async run({ page, context, base, audit }) {
      const signIn = async (person) => {
        await context.clearCookies();
        await page.goto(`${base}/signin?next=/`);
        await page.locator(`input[name=person][value=${person}]`).check();
        await page.locator('input[name=level][value="2"]').check();
        await clickAndWaitForLoad(page, page.locator('#demo-signin-submit'), 'the demo sign-in button');
      };
      // A citizen files an amendment.
      await signIn('camille');
      await page.goto(`${base}/bills/budget-participatif/consultations`);
      await clickAndWaitForLoad(page, page.locator('ul.consultations a').first(), 'the demo consultation');
      const consultation = page.url();
      await clickAndWaitForLoad(page, page.locator('table.articles a[href$="/amend"]').first(), 'propose an amendment');
      const text = page.locator('textarea#text');
      const before = await text.inputValue();
      await text.fill(before.replace(before.split(/\s+/)[0], 'Dorénavant'));
      await clickAndWaitForLoad(page, page.locator('#file-button'), 'the file button');
      const amendment = page.url();
      // Staff rule it admissible, open the vote, adopt it.
      await signIn('claire');
      await page.goto(amendment);
      expect((await page.locator('form.rule').count()) === 1, 'no ruling form for staff');
      await audit('40-amendment-staff');
      const ruleAs = async (ruling) => {
        await page.locator(`input[name=ruling][value=${ruling}]`).check();
        await clickAndWaitForLoad(page, page.locator('#rule'), `the ruling button (${ruling})`);
      };
      await ruleAs('admissible');
      await page.goto(consultation);
      await clickAndWaitForLoad(page, page.locator('#advance-phase'), 'the next-phase button');
      await page.goto(amendment);
      await ruleAs('adopted');
      const status = await page.locator('#status').innerText();
      expect(/(adopted|adopté)/.test(status), `the status says "${status}"`);
      // Publish the consolidated text; the "who wrote this" page traces the new word.
      await page.goto(consultation);
      await audit('41-consultation-staff');
      await clickAndWaitForLoad(page, page.locator('#consolidate'), 'the consolidate button');
      expect(/\/versions\/\d+\/provenance$/.test(page.url()), `after consolidating the page is ${page.url()}`);
      const marked = await page.locator('.provenance-text mark').allInnerTexts();
      expect(marked.includes('Dorénavant'), `marked spans: ${JSON.stringify(marked)}`);
      expect((await page.locator('.provenance-text a.prov-link').count()) > 0, 'no link to the amendment');
      await audit('42-provenance');
    },
  },
];

// ---------------------------------------------------------------- runner

let server = null; // set once spawned, so signal/exit handlers can stop it

// Kill the server and remove its data dir however we end.
process.on('exit', () => server?.stopSync());
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.log(`# interrupted (${sig}), stopping`);
    server?.stopSync();
    process.exit(130); // playwright-core kills the browser on exit
  });
}

/** Print "ok"/"not ok" for one scenario; extra lines become TAP comments. */
function report(name, messages) {
  if (messages.length === 0) {
    console.log(`ok - ${name}`);
    return;
  }
  // Playwright errors carry long call logs; the first lines say enough.
  const lines = messages.flatMap((m) => String(m).split('\n').slice(0, 25));
  console.log(`not ok - ${name}: ${lines[0]}`);
  for (const line of lines.slice(1)) console.log(`#   ${line}`);
}

async function runScenario(browser, base, scenario) {
  // bypassCSP: the site forbids inline scripts, and axe is injected inline.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000); // a debug build can be slow on first hits
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`JavaScript error on ${page.url()}: ${err.message}`));
  // Broken subresources (CSS, images) are worth knowing but not a failure here.
  page.on('response', (res) => {
    if (res.status() >= 400 && res.request().resourceType() !== 'document') {
      console.log(`# warning: ${res.status()} for ${res.url()} (from ${page.url()})`);
    }
  });
  const audit = (name) => auditPage(page, { name, artifactsDir, axePath, problems });
  try {
    await scenario.run({ page, context, base, audit });
  } catch (err) {
    problems.unshift(err?.message ?? String(err));
    const slug = scenario.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    await screenshot(page, path.join(artifactsDir, `FAILED-${slug}.png`)).catch(() => {});
  } finally {
    await context.close().catch(() => {});
  }
  report(scenario.name, problems);
  return problems.length === 0;
}

async function main() {
  fs.mkdirSync(artifactsDir, { recursive: true });
  // Stale screenshots from an earlier run would be misleading artifacts.
  for (const f of fs.readdirSync(artifactsDir)) {
    if (f.endsWith('.png')) fs.rmSync(path.join(artifactsDir, f));
  }
  expect(fs.existsSync(axePath), `${axePath} missing: run tests/browser/setup.sh (npm ci)`);
  expect(fs.existsSync(chromiumPath), `${chromiumPath} missing: run tests/browser/setup.sh`);

  const selected = scenarios.filter((s) => s.name.includes(filter));
  console.log(`1..${selected.length}`);

  let base = process.env.AMENDA_BROWSER_BASE_URL?.replace(/\/+$/, '');
  if (base) {
    console.log(`# testing ${base}`);
  } else {
    const logPath = path.join(artifactsDir, 'server.log');
    console.log(`# starting ${bin} demo (log: ${logPath})`);
    server = await startServer({ bin, cwd: repoRoot, logPath });
    base = server.baseUrl;
    console.log(`# server ready at ${base}`);
  }

  const browser = await chromium.launch(launchOptions);
  let passed = 0;
  let failed = 0;
  try {
    for (const scenario of selected) {
      if (await runScenario(browser, base, scenario)) passed++;
      else failed++;
    }
  } finally {
    await browser.close().catch(() => {});
    await server?.stop();
  }
  console.log(`# screenshots in ${artifactsDir}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    // Setup failed (server would not start, browser would not launch...).
    console.log(`Bail out! ${String(err?.message ?? err).split('\n')[0]}`);
    for (const line of String(err?.message ?? err).split('\n').slice(1)) console.log(`#   ${line}`);
    await server?.stop().catch(() => {});
    console.log(`0 passed, ${scenarios.filter((s) => s.name.includes(filter)).length} failed`);
    process.exit(1);
  },
);
