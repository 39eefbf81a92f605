// Small helpers shared by the scenarios: assertions, navigation by real
// clicks, and the per-page accessibility audit + screenshot.

import fs from 'node:fs';
import path from 'node:path';

/** Throw with `message` unless `cond` holds. */
export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

/** The primary language subtag of <html lang> ("fr-FR" -> "fr"), or "" if missing. */
export async function htmlLang(page) {
  const lang = (await page.getAttribute('html', 'lang')) ?? '';
  return lang.toLowerCase().split('-')[0];
}

/** Text of the first <h1>, failing if there is none or it is empty. */
export async function h1Text(page) {
  const h1 = page.locator('h1').first();
  expect((await page.locator('h1').count()) > 0, `no <h1> on ${page.url()}`);
  const text = (await h1.innerText()).trim();
  expect(text.length > 0, `empty <h1> on ${page.url()}`);
  return text;
}

/** HTTP status of the document currently shown (works after clicks and redirects). */
export function documentStatus(page) {
  return page.evaluate(() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0);
}

/**
 * Click `locator` like a user and wait for the page it leads to to load.
 * We wait for the 'load' event rather than a URL because some links (the
 * language switch) redirect back to the very same URL.
 */
export async function clickAndWaitForLoad(page, locator, what) {
  expect((await locator.count()) > 0, `${what}: not found on ${page.url()}`);
  await Promise.all([page.waitForEvent('load'), locator.first().click()]);
  const status = await documentStatus(page);
  expect(status === 200, `${what}: ${page.url()} answered ${status}, expected 200`);
}

/**
 * Accessibility audit and screenshot of the current page.
 *
 * axe problems are not thrown at once but pushed to `problems`, so that the
 * scenario still runs its functional checks and reports everything at the end.
 */
export async function auditPage(page, { name, artifactsDir, axePath, problems }) {
  await screenshot(page, path.join(artifactsDir, `${name}.png`));

  // addScriptTag({path}) inlines the file, which the site's CSP would block;
  // contexts are created with bypassCSP: true for that reason.
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  if (result.violations.length > 0) {
    const lines = result.violations.map((v) => {
      // A target is a selector, or a list of selectors into iframes/shadow roots.
      const targets = v.nodes
        .slice(0, 3)
        .map((n) => [].concat(n.target).join(' >>> '))
        .join(' | ');
      const more = v.nodes.length > 3 ? ` (+${v.nodes.length - 3} more)` : '';
      return `  ${v.id} [${v.impact}] ${v.help}: ${targets}${more}`;
    });
    problems.push(`${result.violations.length} accessibility violation(s) on ${name} (${page.url()}):\n${lines.join('\n')}`);
  }
}

/**
 * Full-page screenshot; screenshots are artifacts, not checks, so a failure
 * here (e.g. a very tall bill) falls back to the viewport and only warns.
 */
export async function screenshot(page, file, { fullPage = true } = {}) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    await page.screenshot({ path: file, fullPage });
  } catch (err) {
    console.log(`# warning: full-page screenshot ${path.basename(file)} failed (${err.message.split('\n')[0]}), taking the viewport`);
    await page.screenshot({ path: file }).catch(() => {});
  }
}
