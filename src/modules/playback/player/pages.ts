// The two player pages. They hold no script or style of their own (the CSP
// allows only files from Haven's origin): the page names the video, the
// unlisted link and the language in data attributes, and player.js does the
// rest. Nothing about the video is looked up here, so a page says nothing
// about whether a video exists; the playback API decides what a viewer sees.
import type { PlayerAssets } from './assets.ts';

export const PAGE_LANGUAGES = ['en', 'sv', 'fi', 'de'] as const;
export type PageLanguage = (typeof PAGE_LANGUAGES)[number];

const isPageLanguage = (v: string): v is PageLanguage => (PAGE_LANGUAGES as readonly string[]).includes(v);

/** ?lang= if it is one of ours, else the best of Accept-Language, else English. */
export function pageLanguage(query: string | undefined, acceptLanguage: string | undefined): PageLanguage {
  const asked = query?.toLowerCase().split('-')[0];
  if (asked && isPageLanguage(asked)) return asked;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { lang: tag.trim().toLowerCase().split('-')[0]!, q: q === undefined ? 1 : Number(q), index };
    })
    .filter((c) => c.q > 0 && isPageLanguage(c.lang))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return (ranked[0]?.lang as PageLanguage | undefined) ?? 'en';
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface PageInput {
  mode: 'watch' | 'embed';
  videoId: string;
  lang: PageLanguage;
  /** The unlisted link's secret from ?link=, passed on to the playback API. */
  link?: string;
}

export function renderPlayerPage(assets: PlayerAssets, input: PageInput): string {
  const t = assets.strings(input.lang);
  const attrs = [
    `data-video-id="${escapeHtml(input.videoId)}"`,
    `data-mode="${input.mode}"`,
    `data-lang="${input.lang}"`,
    input.link ? `data-link="${escapeHtml(input.link)}"` : '',
  ].filter(Boolean).join(' ');
  return `<!doctype html>
<html lang="${input.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin-when-cross-origin">
<title>${escapeHtml(t.pageTitle ?? 'Video')}</title>
<link rel="icon" href="${assets.base}favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${assets.base}player.css">
<link rel="modulepreload" href="${assets.base}hls.mjs">
<script type="module" src="${assets.base}player.js"></script>
</head>
<body class="haven-${input.mode}">
<main class="haven-page">
<div id="haven-player" class="haven-player" ${attrs}>
<noscript><p class="haven-message">${escapeHtml(t.noScript ?? 'Turn on JavaScript to watch this video.')}</p></noscript>
</div>
</main>
</body>
</html>
`;
}
