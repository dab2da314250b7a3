import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StoryView, Update, ViewUpdate } from '../../src/protocol/update.js';
import { foldCorrections } from '../../src/store/fold.js';
import { applyCorrection } from '../../src/protocol/corrections.js';
import { escapeHtml, jsonForScript, safeHttpUrl } from '../../src/web/escape.js';
import { arrangeFeed, keyEvents } from '../../src/web/feed-tree.js';
import { jsonLdUpdateLimit, liveBlogJsonLd } from '../../src/web/live-blog-json-ld.js';
import { excerpt, imageHtml, linkedHtml, textHtml, updateHtml } from '../../src/web/render-update.js';
import { UpdateInput } from '../../src/protocol/update.js';

const story = 'render-story';
let seq = 0;
function update(kind: Update['kind'], extra: Partial<Update> = {}): Update {
  seq += 1;
  const id = `${1_700_000_000_000 + seq * 1000}-${seq % 3}`;
  return { id, story, kind, occurredAt: '2022-02-15T10:00:00+03:00', publishedAt: new Date(Number(id.split('-')[0])).toISOString(), ...extra };
}

describe('escapeHtml', () => {
  it('escapes the five characters that can end text or an attribute value', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')"> & more`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt; &amp; more');
  });

  it('leaves other text alone, including non-ASCII and already-escaped-looking text', () => {
    expect(escapeHtml('Зеленський — “quote” &amp;')).toBe('Зеленський — “quote” &amp;amp;');
    expect(escapeHtml('')).toBe('');
  });

  it('is what every piece of newsroom text in an update goes through', () => {
    const hostile = '<script>alert(1)</script>';
    const html = updateHtml({
      ...update('statement', { text: hostile, lang: 'en" onmouseover="x', source: { name: hostile, role: hostile, org: hostile, url: 'javascript:alert(1)' } }),
      corrections: [{ id: '1-0', note: hostile, publishedAt: '2022-02-15T10:00:00.000Z' }],
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('javascript:');
    expect(html).not.toContain('" onmouseover="');
    // text, name, role, org, and the note twice (latest note and history)
    expect(html.match(/&lt;script&gt;/g)?.length).toBe(6);
  });
});

describe('jsonForScript', () => {
  it('cannot close the script element, and parses back to the same value', () => {
    const value = { headline: '</script><script>alert(1)</script> & <!-- \u2028' };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(json).toContain('\\u003c/script\\u003e');
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('safeHttpUrl', () => {
  it('keeps http(s) URLs and refuses other schemes and junk', () => {
    expect(safeHttpUrl('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
    expect(safeHttpUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeHttpUrl('data:text/html,x')).toBeUndefined();
    expect(safeHttpUrl('not a url')).toBeUndefined();
    expect(safeHttpUrl(undefined)).toBeUndefined();
  });
});

describe('textHtml', () => {
  it('makes paragraphs of blank-line-separated text and line breaks of single newlines', () => {
    expect(textHtml('one\ntwo\n\nthree <b>')).toBe('<p>one<br>two</p><p>three &lt;b&gt;</p>');
  });
});

describe('links in text', () => {
  it('makes http(s) URLs anchors with rel="nofollow ugc noopener", leaving trailing punctuation outside', () => {
    expect(linkedHtml('See https://example.com/a?b=1&c=2. Or (http://x.example/y).')).toBe(
      'See <a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">https://example.com/a?b=1&amp;c=2</a>. ' +
        'Or (<a href="http://x.example/y" rel="nofollow ugc noopener">http://x.example/y</a>).',
    );
    expect(linkedHtml('https://en.wikipedia.org/wiki/Kyiv_(city)')).toContain('href="https://en.wikipedia.org/wiki/Kyiv_(city)"');
  });

  it('never links other schemes and escapes everything around and inside a link', () => {
    const hostile = 'javascript:alert(1) data:text/html,<script>x</script> https://e.example/"onmouseover="alert(1)<img src=x onerror=alert(2)>';
    const html = linkedHtml(hostile);
    expect(html).not.toMatch(/<script|<img|href="javascript|href="data/);
    expect(html).not.toMatch(/" onmouseover=|"onmouseover="/);
    // Only the https URL became a link, and it stops before the quote.
    expect(html.match(/<a /g)).toHaveLength(1);
    expect(html).toContain('<a href="https://e.example/" rel="nofollow ugc noopener">https://e.example/</a>&quot;onmouseover=&quot;alert(1)&lt;img');
    expect(textHtml('a https://x.example\nb')).toBe('<p>a <a href="https://x.example/" rel="nofollow ugc noopener">https://x.example</a><br>b</p>');
  });
});

describe('images', () => {
  it('accepts https images with alt text only, and no unknown fields', () => {
    const base = { kind: 'statement', occurredAt: '2022-02-15T10:00:00+03:00', text: 'x' };
    expect(UpdateInput.safeParse({ ...base, image: { url: 'https://img.example/a.jpg', alt: 'A tank', width: 800, height: 600 } }).success).toBe(true);
    for (const image of [
      { url: 'http://img.example/a.jpg', alt: 'A tank' },
      { url: 'javascript:alert(1)', alt: 'A tank' },
      { url: 'data:image/png;base64,AAAA', alt: 'A tank' },
      { url: 'https://img.example/a.jpg' },
      { url: 'https://img.example/a.jpg', alt: ' ' },
      { url: 'https://img.example/a.jpg', alt: 'A tank', onerror: 'alert(1)' },
    ]) {
      expect(UpdateInput.safeParse({ ...base, image }).success, JSON.stringify(image)).toBe(false);
    }
  });

  it('renders a figure with escaped alt, caption and credit, and nothing for a non-https URL', () => {
    const html = imageHtml({ url: 'https://img.example/a.jpg?x="><script>', alt: '"><img src=x onerror=alert(1)>', caption: '<b>Cap</b>', credit: 'Photo: <i>A</i>', width: 800, height: 600 });
    expect(html).not.toMatch(/<script|<img src=x|<b>|<i>/);
    expect(html).toContain('src="https://img.example/a.jpg?x=%22%3E%3Cscript%3E"');
    expect(html).toContain('alt="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(html).toContain('width="800" height="600"');
    expect(imageHtml({ url: 'http://img.example/a.jpg', alt: 'a' })).toBe('');
    expect(imageHtml({ url: 'javascript:alert(1)', alt: 'a' })).toBe('');
  });

  it('drops the picture of a withdrawn update, and puts the pinned flag on the pinned one', () => {
    const pictured = update('statement', { text: 'x', image: { url: 'https://img.example/a.jpg', alt: 'A' } }) as ViewUpdate;
    expect(updateHtml(pictured)).toContain('<figure class="update-image">');
    expect(updateHtml({ ...pictured, withdrawn: true })).not.toContain('<figure');
    expect(updateHtml(pictured, { pinned: pictured.id })).toContain('<span class="flag flag-pinned">Pinned</span>');
    expect(updateHtml(pictured)).not.toContain('flag-pinned');
  });

  it('puts the image in the JSON-LD of its update', () => {
    const pictured = update('statement', { text: 'x', image: { url: 'https://img.example/a.jpg', alt: 'A', credit: 'C' } }) as ViewUpdate;
    const ld = liveBlogJsonLd({ story, lastId: pictured.id, updates: [pictured] }, 'https://live.example/stories/s') as { liveBlogUpdate: { image?: unknown }[] };
    expect(ld.liveBlogUpdate[0]!.image).toEqual({ '@type': 'ImageObject', url: 'https://img.example/a.jpg', description: 'A', creditText: 'C' });
  });
});

describe('applyCorrection', () => {
  it('folds corrections the way the server does, and ignores a repeat', () => {
    const statement = update('statement', { text: 'first' });
    const fix = update('correction', { corrects: statement.id, text: 'second', note: 'typo' });
    const retract = update('correction', { corrects: statement.id, retract: true, note: 'wrong' });
    const restore = update('correction', { corrects: statement.id, text: 'third', note: 'back' });
    const server = foldCorrections([statement, fix, retract, restore])[0]!;
    let browser: ViewUpdate = statement;
    for (const c of [fix, retract, restore]) browser = applyCorrection(browser, c);
    expect(browser).toEqual(server);
    expect(applyCorrection(browser, restore)).toBe(browser);
    const withdrawn = applyCorrection<ViewUpdate>(applyCorrection<ViewUpdate>(statement, fix), retract);
    expect(withdrawn.withdrawn).toBe(true);
    expect(withdrawn.text).toBeUndefined();
    expect(statement.text).toBe('first');
  });
});

describe('arrangeFeed', () => {
  it('puts statements newest first and reactions under their target, oldest first', () => {
    const a = update('statement', { text: 'a' });
    const b = update('statement', { text: 'b' });
    const r1 = update('reaction', { inReplyTo: a.id, text: 'r1' });
    const r2 = update('reaction', { inReplyTo: a.id, text: 'r2' });
    const rr = update('reaction', { inReplyTo: r1.id, text: 'rr' });
    const orphan = update('reaction', { inReplyTo: '1-0', text: 'target trimmed' });
    const { top, replies } = arrangeFeed([r2, a, orphan, rr, b, r1]);
    expect(top.map((u) => u.text)).toEqual(['target trimmed', 'b', 'a']);
    expect(replies.get(a.id)?.map((u) => u.text)).toEqual(['r1', 'r2']);
    expect(replies.get(r1.id)?.map((u) => u.text)).toEqual(['rr']);
  });

  it('lists key events newest first, without withdrawn ones', () => {
    const k1 = update('statement', { key: true, text: 'k1' });
    const k2 = { ...update('statement', { key: true }), withdrawn: true };
    const k3 = update('reaction', { key: true, text: 'k3' });
    expect(keyEvents([k1, k2, k3, update('statement')]).map((u) => u.text)).toEqual(['k3', 'k1']);
  });
});

describe('excerpt', () => {
  it('prefixes the source unless the text starts with it, and shortens with an ellipsis', () => {
    expect(excerpt(update('statement', { text: 'says hello', source: { name: 'Ann' } }), 50)).toBe('Ann: says hello');
    expect(excerpt(update('statement', { text: 'Ann says hello', source: { name: 'Ann' } }), 50)).toBe('Ann says hello');
    expect(excerpt(update('statement', { text: 'a'.repeat(200) }), 20)).toHaveLength(20);
  });
});

describe('liveBlogJsonLd', () => {
  const base = (updates: ViewUpdate[], extra: Partial<StoryView> = {}): StoryView => ({ story, title: 'T', summary: 'S', status: 'live', lastId: updates.at(-1)?.id ?? null, updates, ...extra });

  it('is a LiveBlogPosting with the latest updates as BlogPostings, dateModified on corrected ones', () => {
    const plain = update('statement', { text: 'plain' });
    const corrected: ViewUpdate = { ...update('statement', { text: 'fixed' }), corrections: [{ id: '9-0', note: 'n', publishedAt: '2024-01-01T00:00:00.000Z' }] };
    const withdrawn: ViewUpdate = { ...update('statement'), withdrawn: true };
    const ld = liveBlogJsonLd(base([plain, corrected, withdrawn], { coverageStartTime: '2022-02-15T08:00:00+01:00' }), 'http://x/stories/s') as any;
    expect(ld['@type']).toBe('LiveBlogPosting');
    expect(ld.headline).toBe('T');
    expect(ld.description).toBe('S');
    expect(ld.coverageStartTime).toBe('2022-02-15T08:00:00+01:00');
    expect(ld.coverageEndTime).toBeUndefined();
    expect(ld.liveBlogUpdate.map((u: any) => u.articleBody)).toEqual(['fixed', 'plain']);
    expect(ld.liveBlogUpdate[0]).toMatchObject({ '@type': 'BlogPosting', datePublished: corrected.publishedAt, dateModified: '2024-01-01T00:00:00.000Z' });
    expect(ld.liveBlogUpdate[1].dateModified).toBeUndefined();
  });

  it('gives coverageEndTime once the story has ended, and keeps only the latest updates', () => {
    const many = Array.from({ length: jsonLdUpdateLimit + 5 }, (_, i) => update('statement', { text: `n${i}` }));
    const ld = liveBlogJsonLd(base(many, { status: 'ended', coverageEndTime: '2022-02-15T23:00:00Z' }), 'http://x/stories/s') as any;
    expect(ld.coverageEndTime).toBe('2022-02-15T23:00:00Z');
    expect(ld.liveBlogUpdate).toHaveLength(jsonLdUpdateLimit);
    expect(ld.liveBlogUpdate[0].articleBody).toBe(`n${jsonLdUpdateLimit + 4}`);
  });
});

describe('the page bundles', () => {
  it('are built without zod and stay small (the shared renderers import only types from the schemas)', () => {
    for (const file of ['assets/blog.js', 'assets/desk.js', 'embed.js']) {
      const bundle = readFileSync(`dist/public/${file}`, 'utf8');
      expect(bundle, file).not.toMatch(/ZodError|invalid_type/);
      expect(bundle.length, file).toBeLessThan(60_000);
    }
    // The embed is a classic script: an IIFE, so its names stay out of the partner's globals.
    expect(readFileSync('dist/public/embed.js', 'utf8')).toMatch(/^"use strict";\(\(\)=>\{|^\(\(\)=>\{/);
  });
});
