// Charts as hand-drawn SVG: horizontal bars, one or two series. Labels are SVG text nodes (textContent).
import { s } from "./dom.js";

const COLORS = ["#2b5fd9", "#e58e26"];

/**
 * rows: [{label, values: [number|null, ...]}]; series: names of the values; format: value → label text.
 */
export function barChart({ title, rows, series, format = String }) {
  const labelWidth = 190;
  const barArea = 260;
  const rowHeight = 16 * series.length + 10;
  const top = series.length > 1 ? 26 : 8;
  const height = top + rows.length * rowHeight + 6;
  const max = Math.max(1, ...rows.flatMap((row) => row.values.filter((v) => typeof v === "number")));
  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${labelWidth + barArea + 60} ${height}`,
    role: "img",
    "aria-label": title,
  });
  svg.append(s("title", {}, title));
  if (series.length > 1) {
    series.forEach((name, i) => {
      const x = labelWidth + i * 110;
      svg.append(s("rect", { x, y: 6, width: 12, height: 12, fill: COLORS[i] }));
      svg.append(s("text", { x: x + 16, y: 16 }, name));
    });
  }
  rows.forEach((row, r) => {
    const y = top + r * rowHeight;
    svg.append(s("text", { x: labelWidth - 8, y: y + rowHeight / 2 + 2, "text-anchor": "end" }, row.label));
    row.values.forEach((value, i) => {
      const barY = y + 4 + i * 16;
      const width = typeof value === "number" ? Math.max(1, (value / max) * barArea) : 0;
      svg.append(s("rect", { x: labelWidth, y: barY, width, height: 13, fill: COLORS[i % COLORS.length], rx: 2 }));
      svg.append(s("text", { x: labelWidth + width + 6, y: barY + 11 }, typeof value === "number" ? format(value) : "no data"));
    });
  });
  return svg;
}
