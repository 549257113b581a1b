// End-to-end: a reaction in headless Chromium against `postbode dev` on loopback.
//
//   node tests/e2e/reactions.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY
//
// A reader leaves a reaction with the form under a post on a desktop; the author finds his
// notice in the outbox, opens its "Plaatsen" button and presses the button on that page; the
// reaction then stands under the post; a second reader sends one on a 320 px phone. axe-core (the engine behind Lighthouse's
// accessibility audits) checks the post page with the form, the form with a problem, and the
// page with the reaction: no violation at all. Saves screenshots; fails on any console error.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeClean as axe, check, fits, newestMail as newest, openBrowser } from "./browser.mjs";

const [base, , shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node reactions.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
// The form sent without text answers 422 on purpose (the page with the problem).
const expected = (text, url) => text.includes("status of 422") && url.endsWith("/reacties");
const { browser, page, problems } = await openBrowser({ width: 1280, height: 900 }, expected);
const axeClean = (what) => axe(page, what);
const newestMail = (subject) => newest(page, base, subject);

async function noOverflowAt320(what) {
  await page.setViewportSize({ width: 320, height: 800 });
  await fits(page, what);
}

const post = `${base}/posts/leiderschap-en-vertrouwen`;
const text = "Mooi geschreven, René.\n\nIk merk dat vertrouwen in mijn team <b>wankelt</b>. Zullen we eens praten?";

try {
  // The form under the post, on the smallest phone and on a desktop.
  await page.goto(`${post}#reageer`);
  check((await page.locator("#reageer form textarea").count()) === 1, "the reaction form under the post");
  await axeClean("the post page with the reaction form");
  await noOverflowAt320("the post page with the reaction form");
  await page.locator("#reageer").screenshot({ path: join(shots, "reaction-form-320px.png") });
  await page.setViewportSize({ width: 1280, height: 900 });
  check(!(await page.getByLabel(/Stuur mij ook/).isChecked()), "the newsletter box is not ticked");

  // Sent without text: the problem said, nothing typed lost.
  await page.getByLabel("Je naam").fill("Marieke");
  await page.getByLabel(/Je e-mailadres \(niet zichtbaar/).fill("marieke@example.nl");
  await page.getByLabel("Je reactie").fill("   ");
  await page.getByRole("button", { name: "Verstuur je reactie" }).click();
  await page.waitForSelector("text=Schrijf eerst je reactie.");
  check((await page.getByLabel("Je naam").inputValue()) === "Marieke", "the name is kept");
  await axeClean("the form with a problem");

  await page.getByLabel("Je reactie").fill(text);
  await page.getByRole("button", { name: "Verstuur je reactie" }).click();
  await page.waitForSelector("text=Dank je wel voor je reactie");
  check((await page.locator("main").textContent()).includes("na goedkeuring staat hij onder het artikel"), "what happens next");
  await page.goto(post);
  check(!(await page.locator("main").textContent()).includes("wankelt"), "waiting: not on the page");

  // The author's notice; its button opens a page with a button (a GET changes nothing).
  const notice = await newestMail("Nieuwe reactie van Marieke");
  check(notice.includes("niet gecontroleerd") && notice.includes("marieke@example.nl"), "the address, marked as not checked");
  const approve = notice.match(/https?:\/\/[^\s]+\/reactie\/plaatsen\/[A-Za-z0-9_-]+/);
  check(approve, `no Plaatsen link in the notice:\n${notice}`);
  await page.goto(approve[0]);
  await page.goto(post);
  check(!(await page.locator("main").textContent()).includes("wankelt"), "opening the button's page publishes nothing");
  await page.goto(approve[0]);
  await page.getByRole("button", { name: "Plaatsen" }).click();
  await page.waitForSelector("text=De reactie staat online");
  await page.getByRole("link", { name: "Bekijk de reactie" }).click();

  // The reaction under the post: the name, the text as text (no markup), never the address.
  const reactions = page.locator("#reacties");
  await reactions.waitFor();
  const shown = await reactions.textContent();
  check(shown.includes("Marieke") && shown.includes("<b>wankelt</b>"), `the reaction as typed:\n${shown}`);
  check((await reactions.locator("b").count()) === 0, "no markup from the reader");
  check(!(await page.content()).includes("marieke@example.nl"), "the address is not on the page");
  await axeClean("the post page with a reaction");
  await page.locator("#reacties").screenshot({ path: join(shots, "reactions-desktop.png") });
  await noOverflowAt320("the post page with a reaction");
  await page.locator("#reacties").screenshot({ path: join(shots, "reactions-320px.png") });

  // On the phone, a second reader sends one too (its notice waits for the next quarter).
  await page.getByLabel("Je naam").fill("Joost");
  await page.getByLabel(/Je e-mailadres \(niet zichtbaar/).fill("joost@example.nl");
  await page.getByLabel("Je reactie").fill("Herkenbaar. Hoe begin je daarmee?");
  await page.getByLabel(/Stuur mij ook/).check();
  await page.getByRole("button", { name: "Verstuur je reactie" }).click();
  await page.waitForSelector("text=Dank je wel voor je reactie");
  check((await page.locator("main").textContent()).includes("bevestigen"), "the newsletter box's next step said");
  await noOverflowAt320("the answer to a reaction");
  await axeClean("the answer to a reaction");

  check(problems.length === 0, `browser errors:\n${problems.join("\n")}`);
  console.log(`e2e: reaction → notice → Plaatsen → shown passed in Chromium, axe clean; screenshots in ${shots}`);
} finally {
  await browser.close();
}
