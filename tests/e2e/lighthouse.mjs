// Lighthouse (the npm package, Google's own audit) on the home page and a post page of
// `postbode dev`, in Debian's headless Chromium with Lighthouse's mobile settings (a phone's
// screen, simulated slow 4G and CPU): performance, accessibility, best practices and SEO must
// each score at least 95. Reports go to REPORT_DIR.
//
// node lighthouse.mjs BASE_URL REPORT_DIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const [base, reports] = process.argv.slice(2);
if (!reports) {
  console.error("usage: node lighthouse.mjs BASE_URL REPORT_DIR");
  process.exit(2);
}
mkdirSync(reports, { recursive: true });

const MINIMUM = 0.95;
const categories = ["performance", "accessibility", "best-practices", "seo"];
const sitemap = await (await fetch(`${base}/sitemap.xml`)).text();
const post = [...sitemap.matchAll(/<loc>([^<]+\/posts\/[^<]+)<\/loc>/g)].map((m) => m[1])[0];
if (!post) {
  console.error("lighthouse: the sitemap lists no post");
  process.exit(1);
}

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM || "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
const failures = [];
const lines = [];
try {
  for (const [name, url] of [["home", `${base}/`], ["post", post]]) {
    const result = await lighthouse(url, { port: chrome.port, output: ["html", "json"], logLevel: "error", onlyCategories: categories });
    const [html, json] = result.report;
    writeFileSync(join(reports, `${name}.html`), html);
    writeFileSync(join(reports, `${name}.json`), json);
    const scores = categories.map((c) => [c, result.lhr.categories[c].score]);
    lines.push(`${name}: ${scores.map(([c, s]) => `${c} ${Math.round(s * 100)}`).join(", ")}`);
    for (const [category, score] of scores) {
      if (score < MINIMUM) {
        const lost = Object.values(result.lhr.audits)
          .filter((a) => a.score !== null && a.score < 1 && result.lhr.categories[category].auditRefs.some((r) => r.id === a.id && r.weight > 0))
          .map((a) => `${a.id} (${a.displayValue || a.score})`);
        failures.push(`${name}: ${category} ${Math.round(score * 100)} < ${MINIMUM * 100}; lost on ${lost.join(", ")}`);
      }
    }
  }
} finally {
  await chrome.kill();
}
console.log(`lighthouse (mobile): ${lines.join("; ")}; reports in ${reports}`);
if (failures.length > 0) {
  console.error(`lighthouse: ${failures.join("\n  ")}`);
  process.exit(1);
}
