// The world map of one declaration at one date, or of one roll call: Natural Earth shapes (world-atlas, 1:110m)
// drawn with d3-geo, each country filled by its stance or its vote with a pattern as well as a colour (solid =
// signed or yes, hatched = declined or no, dotted = withdrawn or abstain, cross-hatched = absent, pale = none).
// Small states missing from the 1:110m shapes are drawn as dots while they have one. Every shape carries
// data-code (ISO alpha-2), data-name and data-stance (or data-vote).

import { geoEqualEarth, geoPath } from "d3-geo";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import worldUrl from "world-atlas/countries-110m.json?url";
import iso from "./generated/iso-numeric.json";
import smallStates from "./generated/small-states.json";
import { STANCE_TEXT, formatDay, s } from "./dom";

/** What a map colours its shapes by: a declaration's stances, or a roll call's votes. */
export type Colouring = "stance" | "vote";

/** One party's colour on the map: the value (data-stance or data-vote) and the words its shape is named by. */
export interface Painted {
  value: string;
  text: string;
}

const WIDTH = 960;
const HEIGHT = 470;
const DOT_RADIUS = 4;

export interface StanceAt {
  stance: string;
  since: string | null;
}

interface Shape {
  code: string;
  name: string;
  node: SVGPathElement | SVGCircleElement;
  title: SVGTitleElement;
  dot: boolean; // drawn only while it has a stance
}

function alpha2(id: string | undefined, name: string): string | null {
  const numeric = iso.numeric as Record<string, string>;
  const byName = iso.by_name as Record<string, string>;
  return (id && numeric[id]) || byName[name] || null;
}

let atlas: Promise<FeatureCollection<Geometry, { name: string }>> | null = null;

function loadAtlas(): Promise<FeatureCollection<Geometry, { name: string }>> {
  atlas ??= fetch(worldUrl)
    .then((response) => {
      if (!response.ok) throw new Error(`the map's shapes did not load (${response.status})`);
      return response.json() as Promise<Topology<{ countries: GeometryCollection<{ name: string }> }>>;
    })
    .then((topology) => feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>);
  atlas.catch(() => (atlas = null));
  return atlas;
}

export class WorldMap {
  readonly element: SVGSVGElement;
  private readonly shapes = new Map<string, Shape[]>();
  private ready: Promise<void>;
  private readonly attribute: string;

  constructor(captionId: string, onPick: (code: string) => void, colouring: Colouring = "stance") {
    this.attribute = `data-${colouring}`;
    this.element = s("svg", {
      class: "world-map", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": captionId,
      "data-at": "", "data-state": "loading",
    });
    this.element.addEventListener("click", (event) => {
      const code = (event.target as Element).closest("[data-code]")?.getAttribute("data-code");
      if (code) onPick(code);
    });
    this.ready = this.draw();
  }

  private async draw(): Promise<void> {
    const world = await loadAtlas();
    const countries = world.features.filter((f) => alpha2(f.id as string | undefined, f.properties.name) !== "AQ");
    const projection = geoEqualEarth().fitExtent([[6, 6], [WIDTH - 6, HEIGHT - 6]], { ...world, features: countries });
    const path = geoPath(projection);

    const defs = s("defs", {},
      s("pattern", { id: "pattern-declined", width: 7, height: 7, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        s("rect", { width: 7, height: 7, class: "pattern-declined-ground" }),
        s("line", { x1: 0, y1: 0, x2: 0, y2: 7, class: "pattern-declined-line" })),
      s("pattern", { id: "pattern-withdrawn", width: 6, height: 6, patternUnits: "userSpaceOnUse" },
        s("rect", { width: 6, height: 6, class: "pattern-withdrawn-ground" }),
        s("circle", { cx: 3, cy: 3, r: 1.6, class: "pattern-withdrawn-dot" })),
      s("pattern", { id: "pattern-abstain", width: 6, height: 6, patternUnits: "userSpaceOnUse" },
        s("rect", { width: 6, height: 6, class: "pattern-abstain-ground" }),
        s("circle", { cx: 3, cy: 3, r: 1.7, class: "pattern-abstain-dot" })),
      s("pattern", { id: "pattern-absent", width: 6, height: 6, patternUnits: "userSpaceOnUse" },
        s("rect", { width: 6, height: 6, class: "pattern-absent-ground" }),
        s("path", { d: "M0 0L6 6M6 0L0 6", class: "pattern-absent-line" })));
    const land = s("g", { class: "countries" });
    const dots = s("g", { class: "dots" });

    for (const country of countries as Feature<Geometry, { name: string }>[]) {
      const code = alpha2(country.id as string | undefined, country.properties.name);
      const d = path(country);
      if (!code || !d) continue;
      const title = s("title", {}, country.properties.name);
      const node = s("path", { d, "data-code": code, "data-name": country.properties.name, [this.attribute]: "none" }, title);
      land.appendChild(node);
      this.add({ code, name: country.properties.name, node, title, dot: false });
      if (path.area(country) < 12) this.addDot(dots, code, country.properties.name, path.centroid(country));
    }
    for (const small of smallStates) {
      const code = alpha2(small.id, small.name);
      const point = projection([small.lon, small.lat]);
      if (code && point && !this.shapes.has(code)) this.addDot(dots, code, small.name, point);
    }
    this.element.append(defs, land, dots);
  }

  private add(shape: Shape): void {
    const list = this.shapes.get(shape.code) ?? [];
    list.push(shape);
    this.shapes.set(shape.code, list);
  }

  private addDot(into: SVGGElement, code: string, name: string, [x, y]: [number, number]): void {
    const title = s("title", {}, name);
    const node = s("circle", {
      cx: x.toFixed(1), cy: y.toFixed(1), r: DOT_RADIUS, class: "dot", "data-code": code, "data-name": name,
      [this.attribute]: "none",
    }, title);
    into.appendChild(node);
    this.add({ code, name, node, title, dot: true });
  }

  /** Colours every shape by its stance at `at`; answers the codes with a stance that the map cannot show. */
  async show(stances: Map<string, StanceAt>, names: Map<string, string>, at: string): Promise<string[]> {
    const painted = new Map<string, Painted>();
    for (const [code, found] of stances) {
      const since = found.since ? ` since ${formatDay(found.since)}` : "";
      painted.set(code, { value: found.stance, text: `${STANCE_TEXT[found.stance]?.word ?? found.stance}${since}` });
    }
    return this.paint(painted, names, `: ${STANCE_TEXT.none.word}`, at);
  }

  /** Colours every shape by its value (the rest as "none", named with `nothing`), names each shape with its
   *  words, and answers the codes with a value that the map cannot show (organisations, former states). */
  async paint(values: Map<string, Painted>, names: Map<string, string>, nothing: string, at: string): Promise<string[]> {
    await this.ready;
    for (const [code, shapes] of this.shapes) {
      const found = values.get(code);
      const value = found?.value ?? "none";
      for (const shape of shapes) {
        shape.node.setAttribute(this.attribute, value);
        if (shape.dot) shape.node.classList.toggle("dot-shown", value !== "none");
        const name = names.get(code) ?? shape.name;
        shape.title.textContent = `${name} (${code})${found ? `: ${found.text}` : nothing}`;
        shape.node.setAttribute("aria-label", shape.title.textContent);
      }
    }
    this.element.setAttribute("data-at", at);
    this.element.setAttribute("data-state", "ready");
    return [...values.keys()].filter((code) => !this.shapes.has(code)).sort();
  }

  has(code: string): boolean {
    return this.shapes.has(code);
  }
}
