#!/bin/sh
# azd prepackage hook of the pipeline service: build the operations console into dist/console before azd
# zips the app, and check it is there, so the package ships the page functions/consoleSite.ts serves
# (`npm run build`, which `make build` runs too: tsc, then `node dist/local/console/build.js`).
set -eu
. "$(dirname "$0")/azd-lib.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
require_tool node "install Node.js 22 (https://nodejs.org)"
npm run build --silent
for file in index.html main.js main.css; do
  [ -s "dist/console/$file" ] || die "dist/console/$file is missing after the console build"
done
log "console built into dist/console"
