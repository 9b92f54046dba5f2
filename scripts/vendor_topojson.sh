#!/usr/bin/env bash
# Writes the map shapes our maps draw with into static/vendor/plotly/topojson/, with plotly.js's
# licence beside them. plotly.js 4 no longer bundles them: its npm package keeps them all in
# dist/plotly-geo-assets.js, and a plot fetches <topojsonURL><scope>_<resolution>m.json for each
# map (the scope with spaces as dashes; resolution 110 unless the layout says 50).
#
# We keep only the files sessions_app/charts.py's maps ask for (the world at 50, the US at the
# default 110, North America at 50). Change NAMES when a map's geo.scope or geo.resolution
# changes, and run this again whenever plotly is upgraded (requirements.txt).
#
# Usage: scripts/vendor_topojson.sh [plotly.js version]   (default: the installed plotly's)
# Needs npm (to fetch the package) and node.
set -euo pipefail

NAMES=(world_50m usa_110m north-america_50m)

root="$(cd "$(dirname "$0")/.." && pwd)"
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
version="${1:-$("$python" -c 'from plotly.offline import get_plotlyjs_version; print(get_plotlyjs_version())')}"
out="$root/static/vendor/plotly/topojson"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "plotly.js@${version}" >/dev/null
tar xzf "plotly.js-${version}.tgz"

mkdir -p "$out"
rm -f "$out"/*.json
# The asset bundle is a browser script that fills window.PlotlyGeoAssets.topojson, also
# reachable as window.Plotly.topojson; node runs it with `window` pointed at its globals.
node - "$out" "${NAMES[@]}" <<'JS'
global.window = global;
require(process.cwd() + "/package/dist/plotly-geo-assets.js");
const fs = require("fs");
const [out, ...names] = process.argv.slice(2);
const shapes = global.Plotly.topojson;
for (const name of names) {
  if (!shapes[name]) {
    console.error(`no map shapes named ${name}; plotly.js has: ${Object.keys(shapes).join(", ")}`);
    process.exit(1);
  }
  fs.writeFileSync(`${out}/${name}.json`, JSON.stringify(shapes[name]));
}
JS
cp package/LICENSE "$root/static/vendor/plotly/LICENSE.txt"
echo "plotly.js ${version}: wrote ${NAMES[*]} to static/vendor/plotly/topojson/"
