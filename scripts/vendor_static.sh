#!/usr/bin/env bash
# Re-vendor the dashboard's Chart.js from its npm package (the pin below). The minified
# file names its source map in a `sourceMappingURL` comment, and whitenoise's manifest
# storage refuses to collect a file whose map is missing, so the map is vendored with it.
set -euo pipefail
cd "$(dirname "$0")/.."

CHARTJS_VERSION=4.6.1
dest=apps/reporting/static/reporting/vendor/chart.js-$CHARTJS_VERSION
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "chart.js@$CHARTJS_VERSION" >/dev/null && tar xzf "chart.js-$CHARTJS_VERSION.tgz")
mkdir -p "$dest"
cp "$work/package/dist/chart.umd.min.js" "$work/package/dist/chart.umd.min.js.map" \
  "$work/package/LICENSE.md" "$dest/"
echo "vendored chart.js $CHARTJS_VERSION into $dest"
