// What the browser scripts share: Debian's headless Chromium with a fresh profile, the checks,
// axe-core (the engine behind Lighthouse's accessibility audits, injected past the pages' CSP,
// which allows no script), and the outbox of `postbode dev`.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/// A browser and one page of a context that lets axe in; console errors are collected in
/// `problems`, except those `expected(text, url)` says are answers on purpose (a 4xx page).
export async function openBrowser(viewport, expected = () => false) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport, bypassCSP: true, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !expected(msg.text(), msg.location().url)) {
      problems.push(`console: ${msg.text()} (${msg.location().url})`);
    }
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  return { browser, page, problems };
}

/// axe-core on the page as it is: no violation at all.
export async function axeClean(page, what) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document));
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  check(violations.length === 0, `axe finds problems on ${what}:\n${violations.join("\n")}`);
  check(result.passes.length > 10, `axe ran on ${what}`);
}

/// The page is no wider than the window.
export async function fits(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${what} is ${overflow}px wider than the screen`);
}

/// The newest mail with `subject` (to `to`, if given) in the outbox, opened; its text part.
/// Mail goes out a moment after the answer (the worker), so the outbox is looked at again for
/// up to 10 seconds.
export async function newestMail(page, base, subject, to = "") {
  const until = Date.now() + 10_000;
  for (;;) {
    await page.goto(`${base}/_outbox`);
    const row = page.locator("table.outbox tbody tr", { hasText: to }).filter({ hasText: subject }).first();
    if ((await row.count()) > 0) {
      await row.locator("a").click();
      return await page.locator("pre").textContent();
    }
    check(Date.now() < until, `no mail "${subject}" ${to ? `to ${to} ` : ""}in the outbox within 10 seconds`);
    await page.waitForTimeout(200);
  }
}

/// The link starting with `base` + `path` in a mail's text.
export function linkIn(base, text, path) {
  const match = text.match(new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path}[A-Za-z0-9_-]+`));
  check(match, `no ${path} link in the mail:\n${text}`);
  return match[0];
}
