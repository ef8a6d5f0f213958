// DOM building without HTML strings: every piece of data becomes a text node (textContent), never markup.
// No script of the console parses strings as HTML (tests/unit/test_console.py checks every file).

const SVG_NS = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "on") {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else if (name === "class") {
      element.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name in element && typeof value !== "string") {
      element[name] = value; // properties such as disabled, checked, value
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h("td", {class: "num"}, "text", otherNode). Strings are text, never markup. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element (charts). */
export function s(tag, attrs, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Replace the children of ``parent``. */
export function mount(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

// --- formatting -----------------------------------------------------------------------------
const digitsCache = new Map();
function fractionDigits(currency) {
  if (!digitsCache.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      /* unknown code: show as 2 decimals */
    }
    digitsCache.set(currency, digits);
  }
  return digitsCache.get(currency);
}

/** Integer minor units + ISO code → "$25.00". */
export function money(minor, currency) {
  if (minor === undefined || minor === null) return "—";
  const digits = fractionDigits(currency);
  const major = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: digits }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${currency}`;
  }
}

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "3h 12m" for a number of seconds (negative: the same, the caller says "overdue"). */
export function span(seconds) {
  const total = Math.abs(Math.round(seconds));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${minutes}m`;
  if (minutes) return `${minutes}m`;
  return `${total % 60}s`;
}

export function percent(rate) {
  return rate === undefined || rate === null ? "—" : `${(rate * 100).toFixed(1)}%`;
}

export function badge(text, tone) {
  return h("span", { class: ["badge", tone] }, text);
}

const STATUS_TONES = {
  SUCCEEDED: "ok", APPROVED: "ok", COMPLETED: "ok", DELIVERED: "ok", PAID: "ok", RESOLVED: "ok",
  REJECTED: "bad", FAILED: "bad", PAYMENT_FAILED: "bad", CANCELLED: "bad", REFUNDED: "warn",
  PENDING_REVIEW: "warn", OPEN: "warn", PENDING_SHIPMENT: "warn",
};

export function status(value) {
  return badge(value, STATUS_TONES[value]);
}
