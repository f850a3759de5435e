#!/bin/sh
# Brings a fresh clone to a runnable state before `npm start` / `npm test`:
# installs the locked dependencies (including the Node.js 24 runtime) when the
# lockfile changed since the last install, and makes sure ffmpeg is present.
set -eu
cd "$(dirname "$0")/.."

stamp=node_modules/.haven-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x node_modules/.bin/node ]; then
  echo "haven: installing dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "haven: installing ffmpeg from the distribution's packages…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >&2
  else
    echo "haven: ffmpeg and ffprobe are required; install them with: sudo apt-get install ffmpeg" >&2
    exit 2
  fi
fi

# The web app (web/dist): rebuilt when its sources, config or the lockfile changed since the last build.
web_stamp=web/dist/.haven-web-sha256
web_want=$( (sha256sum package-lock.json; find web/index.html web/vite.config.ts web/tsconfig.json web/src web/public -type f 2>/dev/null | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -d' ' -f1)
if [ ! -f web/dist/index.html ] || [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_want" ]; then
  echo "haven: building the web app (vite build web)…" >&2
  node_modules/.bin/node node_modules/vite/bin/vite.js build web --logLevel error >&2
  echo "$web_want" > "$web_stamp"
fi
