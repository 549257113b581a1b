// End-to-end: a reader's own page in headless Chromium against `postbode dev` on loopback.
//
//   node tests/e2e/preferences.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY
//
// Subscribes and confirms, follows "Je voorkeuren" from the welcome mail's footer, and makes
// every choice through the page: only news, a pause of 2 weeks and one until a date, the end
// of a pause, a new first name; the whitepaper again; the data as a download; another address
// (confirmed from the mail to it); unsubscribing with the old address's link and coming back
// with less mail; erasing everything (after the second button). At 320 px
// and on a desktop; axe-core finds no violation on any of those pages; the store agrees
// (`postbode subscribers show`).

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { axeClean as axe, check, fits as fitsOn, linkIn as link, newestMail as newest, openBrowser } from "./browser.mjs";

const [base, dataDir, shots, postbode] = process.argv.slice(2);
if (!postbode) {
  console.error("usage: node preferences.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
// The old address's page answers 410 on purpose once the address moved.
const expected = (text, url) => text.includes("status of 410") && url.includes("/voorkeuren/");
const { browser, page, problems } = await openBrowser({ width: 320, height: 800 }, expected);
const axeClean = (what) => axe(page, what);
const fits = (what) => fitsOn(page, what);
const newestMail = (subject, to) => newest(page, base, subject, to);
const linkIn = (text, path) => link(base, text, path);

async function saidAfter(button, text) {
  await page.getByRole("button", { name: button }).click();
  await page.waitForSelector(`text=${text}`);
  await fits(`the page after "${button}"`);
}

let email = "fleur@example.nl";
function shown() {
  return execFileSync(postbode, ["subscribers", "show", email, "--local", dataDir]).toString();
}

try {
  // A reader subscribes and confirms.
  await page.goto(`${base}/posts/leiderschap-en-vertrouwen`);
  const subscribe = page.locator("section.subscribe");
  await subscribe.getByLabel("Je e-mailadres").fill(email);
  await subscribe.getByLabel("Je voornaam (mag leeg blijven)").fill("Fleur");
  await subscribe.getByRole("button", { name: "Stuur mij de whitepaper" }).click();
  await page.waitForSelector("text=Kijk in je mailbox");
  await page.goto(linkIn(await newestMail("Bevestig je aanmelding", email), "/confirm/"));
  await page.getByRole("button", { name: "Ja, ik bevestig mijn aanmelding" }).click();
  await page.waitForSelector("text=Gelukt, je bent aangemeld!");
  const welcome = await newestMail("Welkom!", email);
  const preferences = linkIn(welcome, "/voorkeuren/");
  const mailFrame = page.frameLocator("iframe.mail");
  check((await mailFrame.locator("a", { hasText: "Je voorkeuren" }).count()) === 1, "the footer links the page");

  // The page on the smallest phone: every choice.
  await page.goto(preferences);
  check((await page.locator("h1").textContent()) === "Je voorkeuren", "the page");
  await fits("the preference page");
  await axeClean("the preference page at 320 px");
  await page.screenshot({ path: join(shots, "preferences-320px.png"), fullPage: true });
  await page.getByLabel("Alleen nieuws (geen serie)").check();
  await saidAfter("Bewaar je keuze", "Bewaard: alleen nieuws");
  check(shown().includes("gets news"), "the store says news only");
  await page.getByLabel("De serie en mijn nieuws").check();
  await saidAfter("Bewaar je keuze", "Bewaard: de serie en mijn nieuws");
  await page.getByLabel("2 weken").check();
  await saidAfter("Pauzeer de serie", "staat op pauze tot");
  await axeClean("the page with a pause");
  await saidAfter("Pauze nu beëindigen", "De pauze is voorbij");
  await page.getByLabel("Of tot een datum (mag leeg blijven)").fill("2027-02-01");
  await saidAfter("Pauzeer de serie", "staat op pauze tot 1 februari 2027");
  check(shown().includes("series paused until 2027-01-31T23:00:00Z"), "the store has the pause (Amsterdam midnight)");
  await page.getByLabel("Zo spreek ik je aan (mag leeg blijven)").fill("Fleur Anne");
  await saidAfter("Bewaar je naam", "Bewaard: je naam");
  check(shown().includes("(Fleur Anne)"), "the store has the new name");
  check(shown().includes("Preference at"), "every choice is a step in the proof");
  const whitepaper = await page.getByRole("link", { name: /opnieuw/ }).getAttribute("href");
  check(whitepaper.includes("/whitepaper/"), "the whitepaper again");

  // On a desktop: the data as a download.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(preferences);
  await axeClean("the preference page on a desktop");
  await page.screenshot({ path: join(shots, "preferences-desktop.png"), fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download je gegevens" }).click(),
  ]);
  check(download.suggestedFilename() === "mijn-gegevens.json", "a file named for what it is");
  const data = JSON.parse(readFileSync(await download.path(), "utf8"));
  check(data.subscriber.email === email && data.subscriber.first_name === "Fleur Anne", "the data as stored");

  // Another address: confirmed from the mail to the new one, then the page is the new one's.
  await page.getByLabel("Je nieuwe e-mailadres").fill("fleur@nieuw.example");
  await saidAfter("Stuur een bevestiging naar het nieuwe adres", "Ik stuurde een bevestiging naar fleur@nieuw.example");
  check(shown().includes("fleur@example.nl"), "nothing moved before the new address confirms");
  await page.goto(linkIn(await newestMail("Bevestig je nieuwe e-mailadres", "fleur@nieuw.example"), "/adres/"));
  await axeClean("the new address's button page");
  await page.getByRole("button", { name: "Ja, dit is mijn nieuwe adres" }).click();
  await page.waitForSelector("text=Gelukt: mijn e-mail gaat voortaan naar fleur@nieuw.example");
  await page.getByRole("link", { name: "Naar je voorkeuren" }).click();
  await page.waitForSelector("text=Voor fleur@nieuw.example.");
  email = "fleur@nieuw.example";
  check(shown().includes("address changed from fleur@example.nl"), "the proof says from where");
  await page.goto(preferences);
  check((await page.locator("main").textContent()).includes("werkt niet meer"), "the old address's page is retired");

  // Unsubscribed (the old address's link still works), then back with less mail.
  await page.goto(linkIn(welcome, "/unsubscribe/"));
  await page.getByRole("button", { name: "Afmelden" }).click();
  await page.waitForSelector("text=Je bent afgemeld");
  await page.getByRole("link", { name: "Kies liever minder e-mail" }).click();
  await page.waitForSelector("text=Toch weer e-mail?");
  await axeClean("the page of someone who left");
  await page.getByLabel("Alleen nieuws (geen serie)").check();
  await saidAfter("Meld me weer aan", "Welkom terug");
  check(shown().includes("confirmed"), "subscribed again");

  // Everything erased, after the second button.
  await page.getByRole("button", { name: "Verwijder alles" }).click();
  await page.waitForSelector("text=Alles verwijderen?");
  await axeClean("the erase question");
  await page.setViewportSize({ width: 320, height: 800 });
  await fits("the erase question");
  await saidAfter("Ja, verwijder alles", "Je gegevens zijn verwijderd");
  let gone = false;
  try {
    shown();
  } catch {
    gone = true;
  }
  check(gone, "the store has nothing left of the reader");

  check(problems.length === 0, `browser errors:\n${problems.join("\n")}`);
  console.log(`e2e: every choice on the preference page passed in Chromium at 320 px and on a desktop, axe clean; screenshots in ${shots}`);
} finally {
  await browser.close();
}
