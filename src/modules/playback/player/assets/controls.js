// The player's controls: play/pause, time, seek bar with storyboard preview,
// volume, captions and quality menus, full screen, and the keyboard.
// Every control is a real <button> or <input> with a label in the page's
// language, so it works with a keyboard and a screen reader.

/** @typedef {(key: string, vars?: Record<string, string>) => string} Translate */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {(Node|string)[]} [children]
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

/** 75 → "1:15", 3700 → "1:01:40" */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/**
 * Parses a storyboard WebVTT ("00:00:00.000 --> 00:00:02.000\nsprite.jpg#xywh=0,0,160,90").
 * @param {string} text
 * @param {string} base the VTT's URL, against which sprite URLs resolve
 * @returns {{start: number, end: number, url: string, x: number, y: number, w: number, h: number}[]}
 */
export function parseStoryboard(text, base) {
  const toSeconds = (ts) => ts.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  const cues = [];
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n\n+/);
  for (const block of blocks) {
    const lines = block.split('\n').filter(Boolean);
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [start, end] = lines[timing].split('-->').map((s) => toSeconds(s.trim().split(/\s+/)[0]));
    const m = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(lines[timing + 1].trim());
    if (!m) continue;
    cues.push({ start, end, url: new URL(m[1], base).href, x: +m[2], y: +m[3], w: +m[4], h: +m[5] });
  }
  return cues;
}

/**
 * Builds the controls around a <video>.
 * @param {{ root: HTMLElement, video: HTMLVideoElement, t: Translate, rewriteUrl: (url: string) => string }} opts
 */
export function createControls({ root, video, t, rewriteUrl }) {
  const button = (cls, label, glyph) => el('button', { type: 'button', class: `haven-btn ${cls}`, 'aria-label': label, title: label }, [el('span', { 'aria-hidden': 'true', text: glyph })]);
  const setButton = (btn, label, glyph) => {
    btn.setAttribute('aria-label', label);
    btn.title = label;
    btn.firstChild.textContent = glyph;
  };

  const play = button('haven-play', t('play'), '▶');
  const time = el('span', { class: 'haven-time', 'aria-label': t('currentTime'), text: '0:00 / 0:00' });
  const seek = el('input', { type: 'range', class: 'haven-seek', min: '0', max: '0', step: '0.1', value: '0', 'aria-label': t('seek') });
  const preview = el('div', { class: 'haven-preview', hidden: '' }, [el('div', { class: 'haven-preview-image' }), el('span', { class: 'haven-preview-time' })]);
  const seekWrap = el('div', { class: 'haven-seek-wrap' }, [seek, preview]);
  const mute = button('haven-mute', t('mute'), '🔊');
  const volume = el('input', { type: 'range', class: 'haven-volume', min: '0', max: '1', step: '0.05', value: '1', 'aria-label': t('volume') });
  const captionsBtn = button('haven-captions-btn', t('captions'), 'CC');
  const captionsMenu = el('ul', { class: 'haven-menu haven-captions-menu', role: 'menu', 'aria-label': t('captions'), hidden: '' });
  const qualityBtn = button('haven-quality-btn', t('quality'), '⚙');
  const qualityMenu = el('ul', { class: 'haven-menu haven-quality-menu', role: 'menu', 'aria-label': t('quality'), hidden: '' });
  const fullscreen = button('haven-fullscreen', t('fullscreen'), '⛶');
  for (const [b, m] of [[captionsBtn, captionsMenu], [qualityBtn, qualityMenu]]) {
    b.setAttribute('aria-haspopup', 'menu');
    b.setAttribute('aria-expanded', 'false');
    b.hidden = true;
  }
  const bar = el('div', { class: 'haven-controls' }, [
    play, time, seekWrap, mute, volume,
    el('div', { class: 'haven-menu-wrap' }, [captionsBtn, captionsMenu]),
    el('div', { class: 'haven-menu-wrap' }, [qualityBtn, qualityMenu]),
    fullscreen,
  ]);
  root.append(bar);

  // --- play, time, seek ---
  const togglePlay = () => (video.paused || video.ended ? video.play().catch(() => {}) : video.pause());
  play.addEventListener('click', togglePlay);
  video.addEventListener('click', togglePlay);
  const syncPlay = () => setButton(play, video.paused ? t('play') : t('pause'), video.paused ? '▶' : '❚❚');
  video.addEventListener('play', syncPlay);
  video.addEventListener('pause', syncPlay);
  video.addEventListener('ended', syncPlay);
  let dragging = false;
  const syncTime = () => {
    const duration = Number.isFinite(video.duration) ? video.duration : 0;
    time.textContent = `${formatTime(video.currentTime)} / ${formatTime(duration)}`;
    seek.max = String(duration);
    if (!dragging) seek.value = String(video.currentTime);
    seek.setAttribute('aria-valuetext', formatTime(video.currentTime));
  };
  video.addEventListener('timeupdate', syncTime);
  video.addEventListener('durationchange', syncTime);
  seek.addEventListener('input', () => {
    dragging = true;
    showPreview(Number(seek.value), Number(seek.value) / (Number(seek.max) || 1));
  });
  seek.addEventListener('change', () => {
    dragging = false;
    video.currentTime = Number(seek.value);
    preview.hidden = true;
  });

  // --- storyboard preview while hovering or dragging ---
  /** @type {ReturnType<typeof parseStoryboard>} */
  let storyboard = [];
  const previewImage = preview.firstChild;
  const previewTime = preview.lastChild;
  function showPreview(seconds, ratio) {
    previewTime.textContent = formatTime(seconds);
    const cue = storyboard.find((c) => seconds >= c.start && seconds < c.end) ?? storyboard[storyboard.length - 1];
    if (cue) {
      previewImage.style.backgroundImage = `url("${rewriteUrl(cue.url)}")`;
      previewImage.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      previewImage.style.width = `${cue.w}px`;
      previewImage.style.height = `${cue.h}px`;
      previewImage.hidden = false;
    } else {
      previewImage.hidden = true;
    }
    preview.style.left = `${Math.min(100, Math.max(0, ratio * 100))}%`;
    preview.hidden = false;
  }
  seek.addEventListener('pointermove', (e) => {
    const rect = seek.getBoundingClientRect();
    const ratio = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    showPreview(ratio * (Number(seek.max) || 0), ratio);
  });
  seek.addEventListener('pointerleave', () => { if (!dragging) preview.hidden = true; });

  // --- volume ---
  const syncVolume = () => {
    const silent = video.muted || video.volume === 0;
    setButton(mute, silent ? t('unmute') : t('mute'), silent ? '🔇' : '🔊');
    volume.value = String(video.muted ? 0 : video.volume);
  };
  mute.addEventListener('click', () => { video.muted = !video.muted; });
  volume.addEventListener('input', () => {
    video.volume = Number(volume.value);
    video.muted = video.volume === 0;
  });
  video.addEventListener('volumechange', syncVolume);

  // --- menus ---
  function openMenu(btn, menu, open) {
    menu.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector('[aria-checked="true"]')?.focus();
  }
  for (const [b, m] of [[captionsBtn, captionsMenu], [qualityBtn, qualityMenu]]) {
    b.addEventListener('click', () => openMenu(b, m, m.hidden));
    m.addEventListener('keydown', (e) => {
      const items = [...m.querySelectorAll('button')];
      const i = items.indexOf(document.activeElement);
      if (e.key === 'Escape') { openMenu(b, m, false); b.focus(); e.stopPropagation(); }
      if (e.key === 'ArrowDown') { items[(i + 1) % items.length]?.focus(); e.preventDefault(); e.stopPropagation(); }
      if (e.key === 'ArrowUp') { items[(i - 1 + items.length) % items.length]?.focus(); e.preventDefault(); e.stopPropagation(); }
    });
  }
  document.addEventListener('click', (e) => {
    for (const [b, m] of [[captionsBtn, captionsMenu], [qualityBtn, qualityMenu]]) {
      if (!m.hidden && !b.parentElement.contains(/** @type {Node} */ (e.target))) openMenu(b, m, false);
    }
  });
  /** @param {HTMLElement} menu @param {{label: string, checked: boolean, choose: () => void, value: string}[]} items */
  function fillMenu(btn, menu, items) {
    menu.replaceChildren(...items.map((item) => {
      const b = el('button', { type: 'button', role: 'menuitemradio', 'aria-checked': String(item.checked), 'data-value': item.value, text: item.label });
      b.addEventListener('click', () => {
        item.choose();
        for (const other of menu.querySelectorAll('button')) other.setAttribute('aria-checked', String(other === b));
        openMenu(btn, menu, false);
        btn.focus();
      });
      return el('li', { role: 'none' }, [b]);
    }));
  }

  // --- captions ---
  let lastCaptions = 0;
  const textTracks = () => [...video.textTracks].filter((tt) => tt.kind === 'subtitles' || tt.kind === 'captions');
  function selectCaptions(index) {
    textTracks().forEach((tt, i) => { tt.mode = i === index ? 'showing' : 'disabled'; });
    if (index >= 0) lastCaptions = index;
    captionsBtn.classList.toggle('haven-on', index >= 0);
    for (const b of captionsMenu.querySelectorAll('button')) b.setAttribute('aria-checked', String(b.dataset.value === String(index)));
  }
  function setCaptions() {
    const tracks = textTracks();
    captionsBtn.hidden = tracks.length === 0;
    fillMenu(captionsBtn, captionsMenu, [
      { label: t('captionsOff'), value: '-1', checked: true, choose: () => selectCaptions(-1) },
      ...tracks.map((tt, i) => ({ label: tt.label || tt.language, value: String(i), checked: false, choose: () => selectCaptions(i) })),
    ]);
  }
  const toggleCaptions = () => {
    const showing = textTracks().findIndex((tt) => tt.mode === 'showing');
    if (textTracks().length) selectCaptions(showing >= 0 ? -1 : lastCaptions);
  };
  captionsBtn.addEventListener('keydown', (e) => { if (e.key === 'ArrowDown') openMenu(captionsBtn, captionsMenu, true); });

  // --- quality ---
  /**
   * @param {{name: string}[]} levels highest first is not assumed; shown highest first
   * @param {(index: number) => void} choose -1 for automatic
   */
  function setLevels(levels, choose) {
    qualityBtn.hidden = levels.length < 2;
    const order = levels.map((l, i) => ({ ...l, i })).sort((a, b) => (b.height ?? 0) - (a.height ?? 0));
    fillMenu(qualityBtn, qualityMenu, [
      { label: t('qualityAuto'), value: '-1', checked: true, choose: () => choose(-1) },
      ...order.map((l) => ({ label: l.name, value: String(l.i), checked: false, choose: () => choose(l.i) })),
    ]);
  }
  /** Shows which level plays now beside "Auto". */
  function setCurrentLevel(name) {
    qualityBtn.dataset.level = name;
    const auto = qualityMenu.querySelector('[data-value="-1"]');
    if (auto) auto.textContent = `${t('qualityAuto')} (${name})`;
  }

  // --- full screen ---
  const syncFullscreen = () => {
    const on = document.fullscreenElement === root;
    setButton(fullscreen, on ? t('exitFullscreen') : t('fullscreen'), on ? '⤢' : '⛶');
  };
  const toggleFullscreen = () => (document.fullscreenElement ? document.exitFullscreen() : root.requestFullscreen?.())?.catch?.(() => {});
  fullscreen.addEventListener('click', toggleFullscreen);
  video.addEventListener('dblclick', toggleFullscreen);
  document.addEventListener('fullscreenchange', syncFullscreen);
  if (!document.fullscreenEnabled) fullscreen.hidden = true;

  // --- keyboard ---
  const seekBy = (delta) => {
    const end = Number.isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.min(end, Math.max(0, video.currentTime + delta));
  };
  const volumeBy = (delta) => {
    video.volume = Math.min(1, Math.max(0, Math.round((video.volume + delta) * 100) / 100));
    video.muted = false;
  };
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = /** @type {HTMLElement} */ (e.target);
    if (target.closest?.('form, .haven-menu')) return;
    const onButton = target.tagName === 'BUTTON';
    const onRange = target.tagName === 'INPUT';
    const actions = {
      ' ': onButton ? undefined : togglePlay,
      k: togglePlay,
      ArrowLeft: onRange ? undefined : () => seekBy(-5),
      ArrowRight: onRange ? undefined : () => seekBy(5),
      ArrowUp: onRange ? undefined : () => volumeBy(0.1),
      ArrowDown: onRange ? undefined : () => volumeBy(-0.1),
      m: () => { video.muted = !video.muted; },
      f: toggleFullscreen,
      c: toggleCaptions,
    };
    const action = actions[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!action) return;
    e.preventDefault();
    action();
  });

  syncPlay();
  syncVolume();
  return {
    setLevels,
    setCurrentLevel,
    setCaptions,
    /** @param {string} vttText @param {string} base */
    setStoryboard(vttText, base) { storyboard = parseStoryboard(vttText, base); },
    remove() { bar.remove(); },
  };
}
