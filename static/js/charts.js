// Line charts of the dashboards, drawn as SVG (no library, nothing from another site).
//
// <figure data-chart="ID"> is filled from the JSON that the page put in <script id="ID"> with
// Django's json_script:
//   {title, unit: "seconds"|"share"|"score"|"per_1000", x: [iso dates], xLabels: [text],
//    series: [{key, label, values: [number|null], href: url|null}], noData: text}
// A null value is a gap in its line. Each point has a hover title; a line with an href, and its
// legend entry, are links (the drill-down). The page's table holds the same numbers.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 800;
  const HEIGHT = 320;
  const MARGIN = { top: 16, right: 16, bottom: 44, left: 64 };
  const MAX_X_LABELS = 10;
  const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];

  function element(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attributes) {
    const node = element("text", { x: x, y: y, ...(attributes || {}) }, parent);
    node.textContent = content;
    return node;
  }

  function format(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "seconds") {
      const total = Math.round(value);
      const hours = Math.floor(total / 3600);
      const minutes = Math.floor((total % 3600) / 60);
      const seconds = String(total % 60).padStart(2, "0");
      return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
    }
    if (unit === "share") return `${(value * 100).toFixed(1)}%`;
    if (unit === "per_1000") return value.toFixed(1);
    return value.toFixed(2);
  }

  // Round numbers for the y axis: from `low` to `high` in about five steps.
  function ticks(low, high, unit) {
    const range = high - low || Math.abs(high) || 1;
    const rough = range / 5;
    let step;
    if (unit === "seconds") {
      step = SECOND_STEPS.find((candidate) => candidate >= rough) || Math.ceil(rough / 3600) * 3600;
    } else {
      const power = Math.pow(10, Math.floor(Math.log10(rough)));
      const fraction = rough / power;
      step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
    }
    const first = Math.floor(low / step) * step;
    const last = Math.ceil(high / step) * step;
    const values = [];
    for (let value = first; value <= last + step / 2; value += step) values.push(value);
    if (values.length < 2) values.push(first + step);
    return values;
  }

  function draw(figure) {
    const source = document.getElementById(figure.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const count = data.x.length;
    const numbers = data.series.flatMap((line) => line.values.filter((v) => v !== null));
    figure.querySelectorAll("svg, .dash-legend").forEach((node) => node.remove());

    const svg = element("svg", {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-label": data.title,
      "data-trend-chart": "",
    });
    element("title", {}, svg).textContent = data.title;
    figure.prepend(svg);
    if (!numbers.length) {
      text(svg, WIDTH / 2, HEIGHT / 2, data.noData, { "text-anchor": "middle", "data-no-data": "" });
      return;
    }

    const yTicks = ticks(Math.min(0, ...numbers), Math.max(...numbers), data.unit);
    const low = yTicks[0];
    const high = yTicks[yTicks.length - 1];
    const left = MARGIN.left;
    const right = WIDTH - MARGIN.right;
    const top = MARGIN.top;
    const bottom = HEIGHT - MARGIN.bottom;
    const x = (index) => (count === 1 ? (left + right) / 2 : left + ((right - left) * index) / (count - 1));
    const y = (value) => bottom - ((bottom - top) * (value - low)) / (high - low || 1);

    // Grid and y axis.
    const grid = element("g", { class: "grid" }, svg);
    const yAxis = element("g", { class: "axis axis-y" }, svg);
    for (const value of yTicks) {
      element("line", { x1: left, x2: right, y1: y(value), y2: y(value) }, grid);
      text(yAxis, left - 6, y(value) + 4, format(value, data.unit), { "text-anchor": "end" });
    }
    element("line", { x1: left, x2: left, y1: top, y2: bottom }, yAxis);

    // x axis: at most MAX_X_LABELS labels, evenly spread.
    const xAxis = element("g", { class: "axis axis-x" }, svg);
    element("line", { x1: left, x2: right, y1: bottom, y2: bottom }, xAxis);
    const every = Math.max(1, Math.ceil(count / MAX_X_LABELS));
    data.xLabels.forEach((label, index) => {
      const last = index === count - 1;
      // Every `every`-th period and the last one, without a label running into the last.
      if (!last && (index % every !== 0 || count - 1 - index < every)) return;
      element("line", { x1: x(index), x2: x(index), y1: bottom, y2: bottom + 4 }, xAxis);
      const anchor = count > 1 && last ? "end" : "middle";
      text(xAxis, x(index), bottom + 18, label, { "text-anchor": anchor });
    });

    // One line per series; null values break it.
    const legend = document.createElement("ul");
    legend.className = "dash-legend";
    data.series.forEach((line, position) => {
      const colour = `series-${position}`;
      const holder = line.href ? element("a", { href: line.href, "data-drill": line.key }, svg) : svg;
      const group = element("g", { "data-series": line.key }, holder);
      element("title", {}, group).textContent = line.label;
      let path = "";
      let drawing = false;
      line.values.forEach((value, index) => {
        if (value === null) {
          drawing = false;
          return;
        }
        path += `${drawing ? "L" : "M"}${x(index).toFixed(1)},${y(value).toFixed(1)}`;
        drawing = true;
      });
      const classes = `line ${colour}${position === 0 ? " total" : ""}`;
      element("path", { d: path, class: classes, "data-line": line.key }, group);
      line.values.forEach((value, index) => {
        if (value === null) return;
        const point = element(
          "circle",
          { cx: x(index), cy: y(value), r: 3.5, class: `point ${colour}` },
          group,
        );
        element("title", {}, point).textContent =
          `${line.label} · ${data.xLabels[index]}: ${format(value, data.unit)}`;
      });

      const entry = document.createElement("li");
      entry.dataset.legend = line.key;
      const swatch = document.createElement("span");
      swatch.className = `dash-swatch ${colour}`;
      swatch.setAttribute("aria-hidden", "true");
      entry.appendChild(swatch);
      const name = document.createElement(line.href ? "a" : "span");
      if (line.href) name.href = line.href;
      name.textContent = line.label;
      entry.appendChild(name);
      legend.appendChild(entry);
    });
    svg.after(legend);
  }

  function start() {
    document.querySelectorAll("figure[data-chart]").forEach(draw);
  }

  // A click anywhere on a table row with a drill-down opens it (the row's link does too).
  document.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select")) return;
    window.location.href = row.dataset.href;
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
