// Every mail type as readers get it, in headless Chromium: at 320, 375 and 600 px, in light and
// dark mode, with the <style> block and without it (as clients that drop it show the mail), and
// with images blocked (as many clients start): the alt text then stands in each image's place.
//
//   node tests/e2e/mails.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY
//
// Runs after flow.mjs against the same `postbode dev`: its outbox already holds the
// confirmation and welcome mails the flow caused. A series post, a broadcast and the "already
// subscribed" letter (which the flow cannot cause within the confirmation cooldown) are added
// to the same outbox with `postbode send-test --local`, which renders them with the sender's code. Each mail's HTML
// part (served by the dev server's outbox) fails the test when it scrolls sideways or when any
// visible text is below WCAG AA contrast (4.5:1) against the background it is drawn on.
// Screenshots of every combination are saved.

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, dataDir, shots, postbode] = process.argv.slice(2);
if (!postbode) {
  console.error("usage: node mails.mjs BASE_URL DATA_DIR SCREENSHOT_DIR POSTBODE_BINARY");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

// A series post and a broadcast, rendered and stored by the same code the sender uses.
const content = mkdtempSync(join(tmpdir(), "postbode-e2e-content-"));
cpSync("content", content, { recursive: true });
execFileSync(postbode, ["new", "Een bericht voor iedereen", "--broadcast", "--content", content]);
for (const what of [["leiderschap-en-vertrouwen"], ["een-bericht-voor-iedereen"], ["--letter", "already-subscribed"]]) {
  execFileSync(postbode, [
    "send-test", ...what, "--to", "lezer@example.nl", "--content", content, "--local", dataDir,
    "--base-url", base, "--from", "René Rensen <nieuwsbrief@voorbeeld.nl>",
  ], { stdio: ["ignore", "ignore", "inherit"] });
}

// The mail types, found in the outbox by their subject line.
const types = {
  confirmation: /^Subject: Bevestig je aanmelding/m,
  welcome: /^Subject: Welkom!/m,
  "already-subscribed": /^Subject: Je bent al aangemeld/m,
  "series-post": /^Subject: Leiderschap en vertrouwen/m,
  broadcast: /^Subject: Een bericht voor iedereen/m,
};
const outbox = join(dataDir, "outbox");
const files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
const mails = Object.entries(types).map(([type, subject]) => {
  const file = files.find((f) => subject.test(readFileSync(join(outbox, f), "latin1")));
  if (!file) throw new Error(`no ${type} mail in ${outbox} (files: ${files.join(", ")})`);
  return { type, file };
});

// Contrast of every visible piece of text against what is behind it, as the page computes it.
function lowContrast() {
  const rgba = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) layers.push(c);
      if (c && c.a >= 1) break;
    }
    // The canvas behind everything: white, or dark when the page asks for a dark scheme.
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    let color = dark ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const luminance = ({ r, g, b }) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const problems = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    const style = getComputedStyle(el);
    const range = document.createRange();
    range.selectNodeContents(node);
    const visible = [...range.getClientRects()].some((r) => r.width > 1 && r.height > 1);
    if (!visible || style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) {
      problems.push(`${ratio.toFixed(2)}:1 for "${node.textContent.trim().slice(0, 40)}" (${style.color} on rgb(${bg.r}, ${bg.g}, ${bg.b}))`);
    }
  }
  return problems;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
const failures = [];
let checked = 0;
let images = 0;
// Every image of the mail: loaded and no wider than the screen, or (blocked) its alt text in
// its place.
function imageProblems(blocked) {
  const problems = [];
  for (const img of document.querySelectorAll("img")) {
    const box = img.getBoundingClientRect();
    if (!img.alt.trim()) problems.push(`an image without alt text: ${img.src}`);
    if (!blocked && !(img.complete && img.naturalWidth > 0)) problems.push(`${img.src} did not load`);
    if (!blocked && box.width > window.innerWidth) problems.push(`${img.src} is ${box.width}px wide`);
    if (blocked && (box.width < 1 || box.height < 1)) problems.push(`blocked, "${img.alt}" takes no space: the alt text is not shown`);
  }
  return { count: document.querySelectorAll("img").length, problems };
}
try {
  for (const [colorScheme, blocked] of [["light", false], ["dark", false], ["light", true]]) {
    const context = await browser.newContext({ colorScheme });
    if (blocked) await context.route("**/images/**", (route) => route.abort());
    const page = await context.newPage();
    for (const { type, file } of mails) {
      for (const width of [320, 375, 600]) {
        for (const styleBlock of blocked ? [true] : [true, false]) {
          const name = `mail-${type}-${width}px-${colorScheme}${styleBlock ? "" : "-without-style"}${blocked ? "-images-blocked" : ""}`;
          await page.setViewportSize({ width, height: 800 });
          await page.goto(`${base}/_outbox/${encodeURIComponent(file)}/html`);
          if (!styleBlock) await page.evaluate(() => document.querySelectorAll("style").forEach((s) => s.remove()));
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          if (overflow > 0) failures.push(`${name}: ${overflow}px wider than the screen`);
          for (const problem of await page.evaluate(lowContrast)) failures.push(`${name}: contrast ${problem}`);
          await page.waitForLoadState("networkidle");
          const found = await page.evaluate(imageProblems, blocked);
          images += found.count;
          for (const problem of found.problems) failures.push(`${name}: ${problem}`);
          await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
          checked += 1;
        }
      }
    }
    await context.close();
  }
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(`mails: ${failures.length} problems:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
if (images === 0) {
  console.error("mails: no image in any mail: the series post's header image is missing");
  process.exit(1);
}
console.log(
  `mails: ${mails.length} mail types × 3 widths × light/dark × with/without <style>, and with images blocked: ` +
    `${checked} renderings, none wider than the screen, all text at AA contrast, every image loaded or its alt ` +
    `text in its place; screenshots in ${shots}`,
);
