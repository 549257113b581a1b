// Share cards and search-engine files of `postbode dev`, read by a parser no one here wrote
// (open-graph-scraper, as link previews read OpenGraph): the home page and every post the
// sitemap lists carry their card, JSON-LD and reading time; robots.txt keeps crawlers off the
// token routes, which answer `X-Robots-Tag: noindex`.
//
// node cards.mjs BASE_URL
import ogs from 'open-graph-scraper';

const [base] = process.argv.slice(2);

function expect(condition, message) {
  if (!condition) {
    console.error(`cards: ${message}`);
    process.exit(1);
  }
}

async function get(path) {
  const response = await fetch(base + path, { redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function card(html) {
  const { error, result } = await ogs({ html });
  expect(!error, `open-graph-scraper could not read a page: ${JSON.stringify(result)}`);
  return result;
}

const sitemap = await get('/sitemap.xml');
expect(sitemap.status === 200, `/sitemap.xml answers ${sitemap.status}`);
expect(sitemap.headers.get('content-type').startsWith('application/xml'), '/sitemap.xml is not XML');
const locs = [...sitemap.text.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
expect(locs[0] === `${base}/`, `the sitemap starts with the home page, not ${locs[0]}`);
const posts = locs.slice(1);
expect(posts.length > 0 && posts.every((u) => u.startsWith(`${base}/posts/`)), `the sitemap's posts: ${posts}`);

const home = await card((await get('/')).text);
expect(home.ogType === 'website', `home og:type ${home.ogType}`);
expect(home.ogUrl === `${base}/`, `home og:url ${home.ogUrl}`);
expect(home.ogLocale === 'nl_NL' && home.ogTitle && home.ogSiteName, `home card ${JSON.stringify(home)}`);

for (const url of posts) {
  const page = await get(new URL(url).pathname);
  expect(page.status === 200, `${url} answers ${page.status}`);
  const c = await card(page.text);
  const where = `${url}: ${JSON.stringify(c)}`;
  expect(c.ogType === 'article' && c.ogUrl === url && c.ogLocale === 'nl_NL', where);
  expect(c.ogTitle && c.ogDescription && c.articleAuthor && c.twitterCard, where);
  const image = (c.ogImage || [])[0];
  expect(image && image.width === '1200' && image.height === '630' && image.alt, `no 1200×630 og:image: ${where}`);
  const served = await fetch(image.url);
  expect(served.status === 200 && served.headers.get('content-type') === 'image/jpeg', `${image.url} is not a JPEG`);
  expect(served.headers.get('cache-control').includes('immutable'), `${image.url} is not cached for ever`);
  expect(c.twitterCard === 'summary_large_image', `a card with an image is large: ${where}`);
  const posting = (c.jsonLD || []).find((j) => j['@type'] === 'BlogPosting');
  expect(posting && posting.url === url && posting.headline === c.ogTitle, `no matching BlogPosting: ${where}`);
  expect(/\d+ min lezen/.test(page.text) && page.text.includes('Geschreven door'), `${url}: no byline with reading time`);
}

const robots = await get('/robots.txt');
expect(robots.status === 200, `/robots.txt answers ${robots.status}`);
for (const line of ['Disallow: /confirm/', 'Disallow: /unsubscribe/', 'Disallow: /whitepaper/', `Sitemap: ${base}/sitemap.xml`]) {
  expect(robots.text.includes(line), `/robots.txt lacks "${line}"`);
}
for (const path of ['/confirm/x', '/unsubscribe/x', '/whitepaper/x']) {
  const reply = await get(path);
  expect((reply.headers.get('x-robots-tag') || '').includes('noindex'), `${path} has no X-Robots-Tag: noindex`);
}
expect(!(await get(new URL(posts[0]).pathname)).headers.get('x-robots-tag'), 'a post page must be indexable');

console.log(
  `cards: home and ${posts.length} post(s) from the sitemap carry their OpenGraph card, a 1200×630 share image and BlogPosting ` +
    '(read by open-graph-scraper); robots.txt and noindex keep the token routes out',
);
