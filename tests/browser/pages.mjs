// Browser checks of Kvota's public pages, in headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core, with axe-core for accessibility.
//
// Checks, in order:
//   1. /decisions/YEAR?lang=kk: <html lang="kk">, a visible table; the language switch to
//      Russian leads to <html lang="ru"> with an h1 "Решение о квоте ...".
//   2. /v/CODE?lang=ru and ?lang=kk: the h1 and the verdict "all signatures hold" in each.
//   3. Uploads on /v/CODE?lang=ru: the published PDF is "exactly the document", a
//      tampered one is "NOT the document".
//   4. /verify?lang=kk and /decisions?lang=ru answer 200.
//   5. On every page of 1-4 (CSP enforced): no console error, no uncaught page error, and
//      no request to another origin than KVOTA_WEB.
//   6. axe-core (WCAG 2.0/2.1 A and AA) finds no violation on six pages, run in a context
//      that bypasses the pages' CSP so that axe can be injected.
// Every page is also saved as a full-page PNG in KVOTA_SHOTS.
//
// Environment:
//   KVOTA_WEB             base URL of the server, e.g. http://127.0.0.1:41234
//   KVOTA_YEAR            a year with a published decision, e.g. 2027
//   KVOTA_CODE            verification code of a published decision document
//   KVOTA_GOOD_PDF        that document's PDF, as published
//   KVOTA_TAMPERED_PDF    a PDF whose bytes differ from it
//   KVOTA_SHOTS           directory for the screenshots (created)
//   KVOTA_CHROMIUM        Chromium binary, default /usr/bin/chromium
//   KVOTA_NODE_MODULES    node_modules directory holding playwright-core and axe-core
//                         (tests/browser/install.sh prints it); else NODE_PATH / usual lookup
//
// Exit codes: 0 all checks passed; 1 a check failed (or the browser/server misbehaved);
// 2 the environment is incomplete.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Resolves a package's entry from KVOTA_NODE_MODULES first, then as Node usually would. */
function resolveModule(name) {
  const dir = process.env.KVOTA_NODE_MODULES;
  if (dir) {
    try {
      return require.resolve(name, { paths: [dir] });
    } catch {
      // fall back to NODE_PATH and the usual lookup
    }
  }
  try {
    return require.resolve(name);
  } catch {
    usage(`cannot find the npm package ${name}: run tests/browser/install.sh and set KVOTA_NODE_MODULES to the directory it prints`);
  }
}

class CheckFailed extends Error {}

function usage(message) {
  console.error(`pages.mjs: ${message}`);
  process.exit(2);
}

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') usage(`${name} is not set`);
  return value;
}

const WEB = env('KVOTA_WEB').replace(/\/+$/, '');
const YEAR = env('KVOTA_YEAR');
const CODE = env('KVOTA_CODE');
const GOOD_PDF = path.resolve(env('KVOTA_GOOD_PDF'));
const TAMPERED_PDF = path.resolve(env('KVOTA_TAMPERED_PDF'));
const SHOTS = path.resolve(env('KVOTA_SHOTS'));
const CHROMIUM = env('KVOTA_CHROMIUM', '/usr/bin/chromium');
for (const [name, file] of [['KVOTA_GOOD_PDF', GOOD_PDF], ['KVOTA_TAMPERED_PDF', TAMPERED_PDF], ['KVOTA_CHROMIUM', CHROMIUM]]) {
  if (!existsSync(file)) usage(`${name}: no file ${file}`);
}
let ORIGIN;
try {
  ORIGIN = new URL(WEB).origin;
} catch {
  usage(`KVOTA_WEB is not a URL: ${WEB}`);
}
mkdirSync(SHOTS, { recursive: true });

const { chromium } = require(resolveModule('playwright-core'));
const AXE_SOURCE = readFileSync(path.join(path.dirname(resolveModule('axe-core')), 'axe.min.js'), 'utf8');
const AXE_OPTIONS = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } };

const TEXT = {
  decisionRu: 'Решение о квоте',
  verifyRu: 'Проверка документа',
  allHoldRu: 'Все подписи документа действительны.',
  allHoldKk: 'Құжаттың барлық қолтаңбасы жарамды.',
  sameBytesRu: 'в точности совпадает',
  otherBytesRu: 'НЕ является документом',
};

const url = (p) => `${WEB}${p}`;

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

function ok(message) {
  console.log(`ok   ${message}`);
}

// ---- pages in the normal context: console errors, page errors, foreign requests ----

const problems = []; // { page, what }

/** A new page of `context` whose console errors, page errors and requests are watched. */
async function watchedPage(context) {
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const where = msg.location()?.url ? ` (${msg.location().url})` : '';
      problems.push({ page: page.url(), what: `console error: ${msg.text()}${where}` });
    }
  });
  page.on('pageerror', (err) => {
    problems.push({ page: page.url(), what: `page error: ${err.message}` });
  });
  page.on('request', (req) => {
    let origin;
    try {
      origin = new URL(req.url()).origin;
    } catch {
      origin = 'invalid';
    }
    if (origin !== ORIGIN) {
      problems.push({ page: page.url(), what: `request to another origin: ${req.method()} ${req.url()}` });
    }
  });
  return page;
}

function checkClean(label) {
  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.what} [on ${p.page}]`).join('\n');
    throw new CheckFailed(`${label}: the pages logged errors or left the origin ${ORIGIN}:\n${lines}`);
  }
}

/** Opens `p` and checks it answers 200. */
async function open(page, p) {
  const response = await page.goto(url(p), { waitUntil: 'load' });
  check(response, `GET ${p}: no response`);
  check(response.status() === 200, `GET ${p}: status ${response.status()}, expected 200`);
  return response;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
}

async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.lang);
}

async function visibleText(page, text) {
  return page.getByText(text, { exact: false }).first().isVisible();
}

/** Puts `file` into the upload form (#pdf) and submits it; returns `.result h2`'s text. */
async function upload(page, file) {
  const form = page.locator('form[enctype="multipart/form-data"]');
  check((await form.count()) === 1, `${page.url()}: expected one upload form, found ${await form.count()}`);
  await page.setInputFiles('#pdf', file);
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    form.locator('button[type=submit]').click(),
  ]);
  check(response, `upload of ${path.basename(file)}: no response`);
  check(response.status() === 200, `upload of ${path.basename(file)}: status ${response.status()}, expected 200`);
  const result = page.locator('.result h2');
  check((await result.count()) > 0, `upload of ${path.basename(file)}: the answer has no .result h2`);
  return (await result.first().textContent()).trim();
}

async function functionalChecks(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(60_000);
  try {
    // 1. A year's decision in Kazakh, then the switch to Russian.
    {
      const page = await watchedPage(context);
      const p = `/decisions/${YEAR}?lang=kk`;
      await open(page, p);
      check((await htmlLang(page)) === 'kk', `${p}: <html lang> is "${await htmlLang(page)}", expected "kk"`);
      check(await page.locator('table').first().isVisible(), `${p}: no visible table`);
      await shot(page, 'decision-kk.png');
      const [response] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.locator('a[hreflang="ru"]').first().click(),
      ]);
      check(response && response.status() === 200, `${p}: the switch to Russian answered ${response?.status()}`);
      check((await htmlLang(page)) === 'ru', `after the switch to Russian (${page.url()}): <html lang> is "${await htmlLang(page)}", expected "ru"`);
      const h1 = (await page.locator('h1').first().textContent()) ?? '';
      check(h1.includes(TEXT.decisionRu), `after the switch to Russian: h1 is "${h1.trim()}", expected it to contain "${TEXT.decisionRu}"`);
      await shot(page, 'decision-ru.png');
      await page.close();
      checkClean('decision pages');
      ok(`decision ${YEAR}: kk page with a table, switch to ru ("${h1.trim()}")`);
    }

    // 2. The verification page of the code, in both languages.
    {
      const page = await watchedPage(context);
      let p = `/v/${CODE}?lang=ru`;
      await open(page, p);
      const h1 = (await page.locator('h1').first().textContent()) ?? '';
      check(h1.includes(TEXT.verifyRu), `${p}: h1 is "${h1.trim()}", expected it to contain "${TEXT.verifyRu}"`);
      check(await visibleText(page, TEXT.allHoldRu), `${p}: "${TEXT.allHoldRu}" is not visible`);
      await shot(page, 'verify-ru.png');
      p = `/v/${CODE}?lang=kk`;
      await open(page, p);
      check((await htmlLang(page)) === 'kk', `${p}: <html lang> is "${await htmlLang(page)}", expected "kk"`);
      check(await visibleText(page, TEXT.allHoldKk), `${p}: "${TEXT.allHoldKk}" is not visible`);
      await shot(page, 'verify-kk.png');
      await page.close();
      checkClean('verification pages');
      ok(`verification page /v/${CODE}: ru and kk say all signatures hold`);
    }

    // 3. Files checked against the code's document.
    {
      const page = await watchedPage(context);
      const p = `/v/${CODE}?lang=ru`;
      await open(page, p);
      let verdict = await upload(page, GOOD_PDF);
      check(verdict.includes(TEXT.sameBytesRu), `upload of the published PDF on ${p}: "${verdict}", expected it to contain "${TEXT.sameBytesRu}"`);
      await shot(page, 'upload-good.png');
      ok(`upload of the published PDF: "${verdict}"`);
      await open(page, p);
      verdict = await upload(page, TAMPERED_PDF);
      check(verdict.includes(TEXT.otherBytesRu), `upload of the tampered PDF on ${p}: "${verdict}", expected it to contain "${TEXT.otherBytesRu}"`);
      await shot(page, 'upload-tampered.png');
      await page.close();
      checkClean('uploads');
      ok(`upload of the tampered PDF: "${verdict}"`);
    }

    // 4. The other pages answer.
    {
      const page = await watchedPage(context);
      await open(page, '/verify?lang=kk');
      await shot(page, 'verify-form-kk.png');
      await open(page, '/decisions?lang=ru');
      await shot(page, 'decisions-ru.png');
      await page.close();
      checkClean('other pages');
      ok('/verify?lang=kk and /decisions?lang=ru answer 200');
    }

    checkClean('all pages');
    ok(`no console error, no page error, no request outside ${ORIGIN}`);
  } finally {
    await context.close();
  }
}

// ---- accessibility, in a context that bypasses CSP so that axe can be injected ----

async function axe(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate((options) => window.axe.run(document, options), AXE_OPTIONS);
}

async function accessibilityChecks(browser) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(60_000);
  const failures = [];
  try {
    const page = await context.newPage();
    const pages = [
      ['/decisions?lang=ru', null],
      [`/decisions/${YEAR}?lang=kk`, null],
      [`/v/${CODE}?lang=ru`, null],
      [`/v/${CODE}?lang=kk`, null],
      ['/verify?lang=ru', null],
      [`/v/${CODE}?lang=ru`, GOOD_PDF],
    ];
    for (const [p, file] of pages) {
      await open(page, p);
      let label = p;
      if (file) {
        await upload(page, file);
        label = `${p} after an upload of ${path.basename(file)}`;
      }
      const results = await axe(page);
      if (results.violations.length > 0) {
        failures.push({ label, violations: results.violations });
        console.log(`FAIL axe on ${label}: ${results.violations.length} violation(s)`);
      } else {
        ok(`axe on ${label}: no violation (${results.passes.length} rules pass, ${results.incomplete.length} need review)`);
      }
    }
  } finally {
    await context.close();
  }
  if (failures.length > 0) {
    const lines = [];
    for (const { label, violations } of failures) {
      lines.push(`  ${label}:`);
      for (const v of violations) {
        lines.push(`    - ${v.id} [${v.impact}] ${v.help} (${v.nodes.length} node(s))`);
        for (const node of v.nodes.slice(0, 3)) {
          lines.push(`        ${JSON.stringify(node.target)}${node.failureSummary ? ` — ${node.failureSummary.replace(/\s+/g, ' ')}` : ''}`);
        }
      }
    }
    throw new CheckFailed(`accessibility (WCAG 2.1 A/AA): axe found violations:\n${lines.join('\n')}`);
  }
  ok('accessibility: axe finds no WCAG 2.1 A/AA violation on 6 pages');
}

// ---- main ----

let browser;
let code = 0;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Running as root (as here and in CI), Chromium's sandbox cannot start.
    args: ['--no-sandbox'],
  });
  await functionalChecks(browser);
  await accessibilityChecks(browser);
  console.log(`all browser checks passed; screenshots in ${SHOTS}`);
} catch (err) {
  code = 1;
  if (err instanceof CheckFailed) {
    console.error(`FAIL ${err.message}`);
  } else {
    console.error(`FAIL unexpected error: ${err?.stack ?? err}`);
  }
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
