#!/usr/bin/env bash
# Fetch the map assets (Leaflet and the plugins zlgis maps use) from npm into
# zlgis/publish/vendor/<package>/ so that maps saved with `--assets local` need no internet.
# Called by scripts/setup.sh. Idempotent: a package already unpacked at the pinned version is
# skipped, so a second run takes well under a second. The vendor folder is gitignored.
# The pinned list must match zlgis/publish/assets.py (ASSET_PACKAGES).
set -euo pipefail
cd "$(dirname "$0")/.."

VENDOR=zlgis/publish/vendor
PACKAGES=(
  "leaflet@1.9.4"
  "leaflet.markercluster@1.5.3"
  "leaflet.fullscreen@3.0.0"
  "leaflet-measure@2.1.7"
  "leaflet.locatecontrol@0.79.0"
  "leaflet-search@2.9.7"
  "protomaps-leaflet@5.1.0"
)

mkdir -p "$VENDOR"
todo=()
for spec in "${PACKAGES[@]}"; do
  name=${spec%@*}; version=${spec##*@}
  stamp="$VENDOR/$name/.zlgis-version"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
    continue
  fi
  todo+=("$spec")
done
if [ ${#todo[@]} -eq 0 ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "setup_assets: npm not found (apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in "${todo[@]}"; do
  name=${spec%@*}; version=${spec##*@}
  echo "setup_assets: fetching $spec from npm"
  tarball=$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)
  mkdir -p "$tmp/unpack-$name"
  tar --warning=no-unknown-keyword -xzf "$tmp/$tarball" -C "$tmp/unpack-$name"
  rm -rf "$VENDOR/$name.new"
  mv "$tmp/unpack-$name/package" "$VENDOR/$name.new"
  echo "$version" > "$VENDOR/$name.new/.zlgis-version"
  # replace atomically enough: old folder out, new folder in
  rm -rf "$VENDOR/$name"
  mv "$VENDOR/$name.new" "$VENDOR/$name"
done
echo "setup_assets: map assets ready in $VENDOR"
