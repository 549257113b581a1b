// End-to-end: a reader in headless Chromium against `postbode dev` on loopback.
//
//   node tests/e2e/flow.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY
//
// Opens a post, subscribes with the form, finds the confirmation mail in the outbox, confirms
// with the button, finds the welcome mail, unsubscribes through its link, and checks the store
// with `postbode subscribers show`. Saves screenshots; fails on any console error.

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, dataDir, shots, postbode] = process.argv.slice(2);
if (!postbode) {
  console.error("usage: node flow.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

// Playwright gives the browser a fresh, empty profile of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
  ],
});
const problems = [];
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on("console", (msg) => {
  if (msg.type() === "error") problems.push(`console: ${msg.text()} (${msg.location().url})`);
});
page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// The newest mail in the outbox, once it is there: confirmation mails go out from the worker
// a moment after the answer, so the outbox is looked at again for up to 10 seconds.
async function newestMail(subject) {
  const until = Date.now() + 10_000;
  for (;;) {
    await page.goto(`${base}/_outbox`);
    const link = page.locator("table.outbox tbody tr a").first();
    if ((await link.count()) > 0 && (await link.textContent()).includes(subject)) {
      await link.click();
      return await page.locator("pre").textContent();
    }
    check(Date.now() < until, `no mail "${subject}" in the outbox within 10 seconds`);
    await page.waitForTimeout(200);
  }
}

// The mail on its outbox page: the text part names contact and privacy, and the rendered HTML
// (in its frame) links both.
async function mailFooterHasContactAndPrivacy(text, what) {
  check(text.includes("Contact: rene@voorbeeld.nl"), `${what}: contact in the text part`);
  check(text.includes(`Privacyverklaring: ${base}/privacy`), `${what}: privacy in the text part`);
  const mail = page.frameLocator("iframe.mail");
  check((await mail.locator(`td.footer a[href='${base}/privacy']`).count()) === 1, `${what}: privacy link in the HTML`);
  check((await mail.locator("td.footer a[href='mailto:rene@voorbeeld.nl']").count()) === 1, `${what}: contact link in the HTML`);
}

function linkIn(text, path) {
  const match = text.match(new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path}[A-Za-z0-9_-]+`));
  check(match, `no ${path} link in the mail:\n${text}`);
  return match[0];
}

try {
  // The post, as a reader finds it: desktop and the smallest phone.
  await page.goto(`${base}/posts/leiderschap-en-vertrouwen`);
  check((await page.locator("h1").count()) === 1, "one h1");
  check((await page.title()).startsWith("Leiderschap en vertrouwen"), "the post's title");
  await page.screenshot({ path: join(shots, "post-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 320, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the page is ${overflow}px wider than a 320px screen`);
  await page.screenshot({ path: join(shots, "post-320px.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Identity, contact address and privacy statement on the page; the form links the statement.
  const footer = page.locator("footer");
  check((await footer.textContent()).includes("rene@voorbeeld.nl"), "the contact address in the footer");
  check((await footer.locator("a[href='mailto:rene@voorbeeld.nl']").count()) === 1, "a mailto: contact link");
  check((await page.locator("section.subscribe a[href='/privacy']").count()) === 1, "the form links the privacy statement");
  await footer.getByRole("link", { name: "Privacyverklaring" }).click();
  await page.waitForSelector("h1:text('Privacyverklaring')");
  check((await page.locator("main").textContent()).includes("12 maanden"), "the retention period on the privacy page");
  await page.screenshot({ path: join(shots, "privacy.png"), fullPage: true });
  await page.goBack();

  // Subscribe with the form (labels find the fields, as a screen reader would).
  // (The reaction form above it asks for an address too: the subscribe form's own fields.)
  const subscribe = page.locator("section.subscribe");
  await subscribe.getByLabel("Je e-mailadres").fill("eva@example.nl");
  await subscribe.getByLabel("Je voornaam (mag leeg blijven)").fill("Eva");
  await subscribe.getByRole("button", { name: "Stuur mij de whitepaper" }).click();
  await page.waitForSelector("text=Kijk in je mailbox");

  // The confirmation mail, its link, the button.
  const confirmation = await newestMail("Bevestig je aanmelding");
  await page.screenshot({ path: join(shots, "email-confirmation.png"), fullPage: true });
  await mailFooterHasContactAndPrivacy(confirmation, "confirmation");
  await page.goto(linkIn(confirmation, "/confirm/"));
  await page.screenshot({ path: join(shots, "confirm-page.png"), fullPage: true });
  await page.getByRole("button", { name: "Ja, ik bevestig mijn aanmelding" }).click();
  await page.waitForSelector("text=Gelukt, je bent aangemeld!");

  // The welcome mail, rendered as the reader sees it; then its unsubscribe link.
  const welcome = await newestMail("Welkom!");
  await page.screenshot({ path: join(shots, "email-welcome.png"), fullPage: true });
  await mailFooterHasContactAndPrivacy(welcome, "welcome");
  await page.goto(linkIn(welcome, "/unsubscribe/"));
  await page.getByRole("button", { name: "Afmelden" }).click();
  await page.waitForSelector("text=Je bent afgemeld");
  await page.screenshot({ path: join(shots, "unsubscribed.png"), fullPage: true });

  // The store agrees.
  const shown = execFileSync(postbode, ["subscribers", "show", "eva@example.nl", "--local", dataDir]).toString();
  check(shown.includes("unsubscribed"), `the store does not say unsubscribed:\n${shown}`);
  check(shown.includes("Confirm at"), "the confirmation is in the consent proof");

  check(problems.length === 0, `browser errors:\n${problems.join("\n")}`);
  console.log(`e2e: subscribe → confirm → welcome → unsubscribe passed in Chromium; screenshots in ${shots}`);
} finally {
  await browser.close();
}
