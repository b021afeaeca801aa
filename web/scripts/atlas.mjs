// Writes src/generated/small-states.json: the countries that Natural Earth's 1:50m shapes have and its
// 1:110m shapes leave out (Singapore, Malta, Monaco, the Vatican, …), each as an ISO numeric id, a name and
// the centre of its shape. The page draws the 110m shapes and a dot for each of these, so a small state
// with a stance is still seen. Runs before every build (npm run build); its output is not committed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { geoCentroid } from "d3-geo";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const load = (name) => JSON.parse(readFileSync(require.resolve(`world-atlas/${name}`), "utf8"));

const coarse = load("countries-110m.json");
const fine = load("countries-50m.json");
const drawn = new Set(coarse.objects.countries.geometries.map((g) => g.id).filter(Boolean));
const shapes = feature(fine, fine.objects.countries).features;

const round = (x) => Math.round(x * 100) / 100;
const small = shapes
  .filter((f) => f.id && !drawn.has(f.id))
  .map((f) => {
    const [lon, lat] = geoCentroid(f);
    return { id: f.id, name: f.properties.name, lon: round(lon), lat: round(lat) };
  })
  .sort((a, b) => a.id.localeCompare(b.id));

const target = join(here, "..", "src", "generated", "small-states.json");
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, JSON.stringify(small, null, 1) + "\n");
console.log(`atlas: ${small.length} small states as dots -> ${target}`);
