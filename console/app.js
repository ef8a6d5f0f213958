// The staff console: one page, hash routes, a view per role. The API decides what anyone may do; the
// console only hides what the caller's groups would be refused. All data is rendered as text (lib/dom.js).
import { ApiError, get, patch, post, seg, setApiBase } from "./lib/api.js";
import {
  STAFF_GROUPS, completeHostedSignIn, configureAuth, currentToken, devSignIn, session, signOut, startHostedSignIn,
} from "./lib/auth.js";
import { barChart } from "./lib/charts.js";
import { badge, h, money, mount, percent, span, status, when } from "./lib/dom.js";

const outlet = document.getElementById("main");
// Each route renders into its own container: a slow view that finishes after the user moved on renders into
// a detached container, never over the view now shown (every view captures `main` when it starts).
let container = outlet;
const screen = () => container;
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const flashBox = document.getElementById("flash");
let settings = { auth: "local", apiBase: "", reviewTimeoutAction: "approve" };

const VIEWS = [
  { hash: "#/refunds", label: "Refunds", role: "reviewer" },
  { hash: "#/tickets", label: "Tickets", role: "support" },
  { hash: "#/shipping", label: "Shipping", role: "ops" },
  { hash: "#/catalog", label: "Catalog", role: "ops" },
  { hash: "#/report", label: "Report", role: "analyst" },
  { hash: "#/order", label: "Find order", role: null },
];

// --- feedback ------------------------------------------------------------------------------------
function flash(message, tone = "error") {
  flashBox.className = tone === "info" ? "info" : "";
  flashBox.textContent = message || "";
}

function explain(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) return "Your session has ended: sign in again.";
    if (error.status === 403) return "Your role may not do this (403 FORBIDDEN).";
    if (error.status === 404) return `Not found (${error.code}).`;
    return `${error.message} (${error.status} ${error.code})`;
  }
  return String(error && error.message ? error.message : error);
}

/** Run an action; show its error instead of failing silently; re-enable the button afterwards. */
async function act(button, action) {
  if (button) button.disabled = true;
  flash("");
  try {
    return await action();
  } catch (error) {
    flash(explain(error));
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

const can = (role) => (session()?.groups || []).includes(role);
const table = (head, rows, empty = "Nothing here.") =>
  rows.length
    ? h("table", {}, h("thead", {}, h("tr", {}, head.map((name) => h("th", {}, name)))), h("tbody", {}, rows))
    : h("p", { class: "muted" }, empty);
const link = (hash, text) => h("a", { href: hash }, text);

// --- sign-in -------------------------------------------------------------------------------------
function signInView() {
  const main = screen();
  if (settings.auth === "cognito") {
    return mount(main, h("section", { class: "card stack" },
      h("h1", {}, "Sign in"),
      h("p", {}, "Staff sign in with the organisation's user pool."),
      h("button", { id: "hosted-signin", on: { click: () => startHostedSignIn() } }, "Sign in")));
  }
  const user = h("input", { id: "dev-user", value: "staff-0001", required: true, maxlength: 64, pattern: "[A-Za-z0-9._@-]+" });
  const boxes = STAFF_GROUPS.map((group) => h("input", { type: "checkbox", name: "group", value: group, id: `dev-${group}` }));
  const form = h("form", { id: "dev-signin", class: "stack", on: { submit: async (event) => {
    event.preventDefault();
    const groups = boxes.filter((box) => box.checked).map((box) => box.value);
    await act(form.querySelector("button"), async () => {
      await devSignIn(user.value.trim(), groups);
      window.location.hash = firstView();
      route();
    });
  } } },
    h("h1", {}, "Dev sign-in"),
    h("p", { class: "muted" }, "LOCAL ONLY: the local stack issues a dev token for any user and groups. On AWS the console uses the Cognito hosted UI."),
    h("label", {}, "User id ", user),
    h("div", { class: "inline" }, boxes.map((box) => h("label", {}, box, box.value))),
    h("button", { type: "submit" }, "Sign in"));
  return mount(main, h("section", { class: "card" }, form));
}

function firstView() {
  const view = VIEWS.find((v) => v.role && can(v.role));
  return view ? view.hash : "#/order";
}

function renderChrome() {
  const current = session();
  nav.replaceChildren();
  who.replaceChildren();
  if (!current) return;
  for (const view of VIEWS) {
    if (view.role && !can(view.role)) continue;
    const active = window.location.hash.startsWith(view.hash);
    nav.append(h("a", { href: view.hash, class: active ? "active" : null, dataset: { view: view.hash.slice(2) } }, view.label));
  }
  who.append(
    h("span", { id: "who-user" }, current.email || current.user),
    h("span", { class: "muted" }, current.groups.length ? current.groups.join(", ") : "no staff group"),
    h("button", { class: "secondary", id: "signout", on: { click: async () => { await signOut(); await route(); } } }, "Sign out"),
  );
}

// --- shared pieces -------------------------------------------------------------------------------
function timeLeft(dueIso) {
  if (!dueIso) return h("span", { class: "muted" }, "no deadline");
  const seconds = (new Date(dueIso).getTime() - Date.now()) / 1000;
  return seconds < 0 ? badge(`overdue ${span(seconds)}`, "bad") : badge(`${span(seconds)} left`, seconds < 3600 * 4 ? "warn" : null);
}

function orderLines(order) {
  return table(["sku", "name", "kind", "qty", "unit", "total"], order.items.map((line) => h("tr", {},
    h("td", {}, line.sku), h("td", {}, line.name), h("td", {}, line.kind), h("td", { class: "num" }, line.quantity),
    h("td", { class: "num" }, money(line.unit_price, order.currency)), h("td", { class: "num" }, money(line.line_total, order.currency)))));
}

function address(value) {
  if (!value) return h("p", { class: "muted" }, "No shipping address (digital goods).");
  const lines = [value.name, value.line1, value.line2, `${value.postal_code} ${value.city}`, value.region, value.country, value.phone];
  return h("address", { class: "thread" }, lines.filter(Boolean).join("\n"));
}

async function orderSections(orderId) {
  const [order, events, payments] = await Promise.all([
    get(`/orders/${seg(orderId)}`),
    get(`/orders/${seg(orderId)}/events`).catch(() => null),
    get(`/orders/${seg(orderId)}/payments`).catch(() => null),
  ]);
  const parts = [
    h("section", { class: "card", id: "order-card" },
      h("h2", {}, "Order ", h("code", {}, order.order_id), " ", status(order.status)),
      h("p", {}, `User ${order.user_id} · created ${when(order.created_at)} · total ${money(order.total, order.currency)}`,
        order.refunded_total ? ` · refunded ${money(order.refunded_total, order.currency)}` : ""),
      orderLines(order),
      order.shipment ? h("p", {}, `Shipped ${when(order.shipment.shipped_at)} with ${order.shipment.carrier}, tracking ${order.shipment.tracking_number}`) : null,
      h("h2", {}, "Ship to"), address(order.shipping_address)),
  ];
  if (events) {
    parts.push(h("section", { class: "card" }, h("h2", {}, "Timeline"), h("ol", { class: "timeline" }, events.items.map((event) =>
      h("li", {}, h("span", { class: "muted" }, when(event.at)), " ", event.type, " ",
        event.to_status ? status(event.to_status) : null, " ", h("span", { class: "muted" }, event.actor))))));
  }
  if (payments) {
    parts.push(h("section", { class: "card" }, h("h2", {}, "Payments"), table(["received", "provider", "event", "amount", "outcome"],
      payments.items.map((entry) => h("tr", {}, h("td", {}, when(entry.received_at)), h("td", {}, entry.provider),
        h("td", {}, entry.event_type), h("td", { class: "num" }, money(entry.amount, entry.currency)), h("td", {}, entry.outcome))),
      "No payment events.")));
  }
  return { order, parts };
}

// --- reviewer ------------------------------------------------------------------------------------
async function refundQueue() {
  const main = screen();
  const page = await get("/refunds", { status: "PENDING_REVIEW", limit: 100 });
  const action = settings.reviewTimeoutAction === "reject" ? "auto-reject" : "auto-approve";
  mount(main, h("h1", {}, "Refunds awaiting review"),
    h("p", { class: "muted" }, `Oldest due first. At the deadline the workflow applies its timeout action (${action}).`),
    table(["due", `time left before ${action}`, "refund", "order", "user", "amount", "reason"], page.items.map((refund) =>
      h("tr", { class: "clickable", dataset: { refund: refund.refund_id }, on: { click: () => (window.location.hash = `#/refunds/${refund.refund_id}`) } },
        h("td", {}, when(refund.review_due_at)), h("td", {}, timeLeft(refund.review_due_at)),
        h("td", {}, link(`#/refunds/${refund.refund_id}`, refund.refund_id)), h("td", {}, refund.order_id),
        h("td", {}, refund.user_id), h("td", { class: "num" }, money(refund.amount, refund.currency)), h("td", {}, refund.reason))),
    "No refund is waiting for review."));
}

async function refundDetail(refundId) {
  const main = screen();
  const refund = await get(`/refunds/${seg(refundId)}`);
  const [{ parts }, history] = await Promise.all([
    orderSections(refund.order_id),
    get(`/users/${seg(refund.user_id)}/refunds`, { limit: 50 }).catch(() => ({ items: [] })),
  ]);
  const note = h("textarea", { id: "decision-note", maxlength: 1000, placeholder: "Note for the record (optional)" });
  const decide = (decision) => async (event) => {
    await act(event.currentTarget, async () => {
      try {
        await post(`/refunds/${seg(refundId)}/decision`, { decision, note: note.value.trim() || undefined });
        flash(`Refund ${decision === "approve" ? "approved" : "rejected"}.`, "info");
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          flash("Already decided by someone else: the refund below shows the decision that stands.");
        } else throw error;
      }
      await refundDetail(refundId);
    });
  };
  const open = refund.status === "PENDING_REVIEW";
  const earlier = history.items.filter((item) => item.refund_id !== refund.refund_id);
  mount(main,
    h("p", {}, link("#/refunds", "← Refund queue")),
    h("section", { class: "card stack", id: "refund-card" },
      h("h1", {}, "Refund ", h("code", {}, refund.refund_id), " ", h("span", { id: "refund-status" }, status(refund.status))),
      h("p", {}, `${money(refund.amount, refund.currency)} asked ${when(refund.requested_at)} by ${refund.user_id}`),
      h("p", {}, "Reason: ", h("q", { id: "refund-reason" }, refund.reason)),
      refund.review_due_at && open ? h("p", {}, "Review due ", when(refund.review_due_at), " ", timeLeft(refund.review_due_at)) : null,
      refund.decided_by ? h("p", {}, `Decided by ${refund.decided_by} ${when(refund.decided_at)}`, refund.decision_note ? ` — “${refund.decision_note}”` : "") : null,
      refund.failure_cause ? h("p", {}, badge("failure", "bad"), " ", refund.failure_cause) : null,
      open && can("reviewer") ? h("div", { class: "stack" }, note, h("div", { class: "inline" },
        h("button", { id: "approve", on: { click: decide("approve") } }, "Approve"),
        h("button", { id: "reject", class: "danger", on: { click: decide("reject") } }, "Reject"))) : null),
    h("section", { class: "card" }, h("h2", {}, `Earlier refunds of ${refund.user_id}`),
      table(["requested", "refund", "order", "amount", "status", "reason"], earlier.map((item) => h("tr", {},
        h("td", {}, when(item.requested_at)), h("td", {}, link(`#/refunds/${item.refund_id}`, item.refund_id)), h("td", {}, item.order_id),
        h("td", { class: "num" }, money(item.amount, item.currency)), h("td", {}, status(item.status)), h("td", {}, item.reason))),
      "No earlier refunds.")),
    parts);
}

// --- support -------------------------------------------------------------------------------------
async function ticketQueue(statusName = "OPEN") {
  const main = screen();
  const page = await get("/tickets", { status: statusName, limit: 100 });
  const tabs = ["OPEN", "ANSWERED"].map((name) => h("button", { class: name === statusName ? null : "secondary",
    on: { click: () => ticketQueue(name).catch((e) => flash(explain(e))) } }, name === "OPEN" ? "Waiting for us" : "Waiting for the customer"));
  mount(main, h("h1", {}, "Support tickets"), h("div", { class: "inline" }, tabs),
    h("p", { class: "muted" }, "Oldest due first; a breached ticket passed its response deadline."),
    table(["due", "", "ticket", "category", "order", "last message"], page.items.map((ticket) => {
      const last = ticket.messages[ticket.messages.length - 1];
      return h("tr", { class: "clickable", dataset: { ticket: ticket.ticket_id }, on: { click: () => (window.location.hash = `#/tickets/${ticket.ticket_id}`) } },
        h("td", {}, when(ticket.due_at)),
        h("td", {}, ticket.breached_at ? badge("BREACHED", "bad") : timeLeft(ticket.due_at)),
        h("td", {}, link(`#/tickets/${ticket.ticket_id}`, ticket.ticket_id)), h("td", {}, ticket.category), h("td", {}, ticket.order_id),
        h("td", { class: "muted" }, last ? last.message.slice(0, 80) : ""));
    }), "No ticket in this queue."));
}

async function ticketDetail(ticketId) {
  const main = screen();
  const ticket = await get(`/tickets/${seg(ticketId)}`);
  const reply = h("textarea", { id: "reply-text", maxlength: 4000, placeholder: "Your answer to the customer" });
  const send = async (event) => act(event.currentTarget, async () => {
    if (!reply.value.trim()) throw new Error("Write a reply first.");
    await post(`/tickets/${seg(ticketId)}/replies`, { message: reply.value });
    flash("Reply sent.", "info");
    await ticketDetail(ticketId);
  });
  const resolve = async (event) => act(event.currentTarget, async () => {
    await post(`/tickets/${seg(ticketId)}/resolve`);
    flash("Ticket resolved.", "info");
    await ticketDetail(ticketId);
  });
  const closed = ticket.status === "RESOLVED";
  mount(main, h("p", {}, link("#/tickets", "← Ticket queue")),
    h("section", { class: "card stack", id: "ticket-card" },
      h("h1", {}, "Ticket ", h("code", {}, ticket.ticket_id), " ", h("span", { id: "ticket-status" }, status(ticket.status)),
        ticket.breached_at ? [" ", badge(`BREACHED ${when(ticket.breached_at)}`, "bad")] : null),
      h("p", {}, `${ticket.category} · order `, link(`#/order/${ticket.order_id}`, ticket.order_id), ` · user ${ticket.user_id} · due ${when(ticket.due_at)}`),
      h("ol", { class: "thread", id: "thread" }, ticket.messages.map((message) =>
        h("li", { class: message.author.startsWith("support") ? "staff" : null },
          h("div", { class: "muted" }, `${message.author} · ${when(message.at)}`),
          h("div", { class: "message" }, message.message)))),
      closed ? h("p", { class: "muted" }, `Resolved ${when(ticket.resolved_at)}.`) : h("div", { class: "stack" }, reply,
        h("div", { class: "inline" }, h("button", { id: "send-reply", on: { click: send } }, "Send reply"),
          h("button", { id: "resolve", class: "secondary", on: { click: resolve } }, "Resolve")))));
}

// --- ops: shipping -------------------------------------------------------------------------------
async function shipping() {
  const main = screen();
  const [toShip, toDeliver] = await Promise.all([
    get("/shipments", { status: "PENDING_SHIPMENT", limit: 100 }),
    get("/shipments", { status: "SHIPPED", limit: 100 }),
  ]);
  const shipRow = (order) => {
    const carrier = h("input", { name: "carrier", placeholder: "carrier", required: true, maxlength: 64, size: 10 });
    const tracking = h("input", { name: "tracking", placeholder: "tracking number", required: true, maxlength: 64, size: 18 });
    const form = h("form", { class: "inline", on: { submit: async (event) => {
      event.preventDefault();
      await act(form.querySelector("button"), async () => {
        await post(`/orders/${seg(order.order_id)}/shipments`, { carrier: carrier.value.trim(), tracking_number: tracking.value.trim() });
        flash(`Order ${order.order_id} shipped.`, "info");
        await shipping();
      });
    } } }, carrier, tracking, h("button", { type: "submit" }, "Ship"));
    return h("tr", { dataset: { order: order.order_id } }, h("td", {}, when(order.created_at)), h("td", {}, link(`#/order/${order.order_id}`, order.order_id)),
      h("td", {}, order.items.map((line) => `${line.quantity}× ${line.name}`).join(", ")),
      h("td", { class: "muted" }, order.shipping_address ? `${order.shipping_address.city}, ${order.shipping_address.country}` : "—"), h("td", {}, form));
  };
  const deliverRow = (order) => h("tr", { dataset: { order: order.order_id } }, h("td", {}, when(order.shipment?.shipped_at)),
    h("td", {}, link(`#/order/${order.order_id}`, order.order_id)), h("td", {}, `${order.shipment?.carrier} ${order.shipment?.tracking_number}`),
    h("td", {}, h("button", { class: "deliver", on: { click: (event) => act(event.currentTarget, async () => {
      await post(`/orders/${seg(order.order_id)}/delivery`);
      flash(`Order ${order.order_id} delivered.`, "info");
      await shipping();
    }) } }, "Record delivery")));
  mount(main, h("h1", {}, "Shipping"),
    h("h2", {}, `To ship (${toShip.items.length})`),
    table(["ordered", "order", "lines", "to", "carrier and tracking"], toShip.items.map(shipRow), "Nothing waits for shipment."),
    h("h2", {}, `Shipped, waiting for delivery (${toDeliver.items.length})`),
    table(["shipped", "order", "shipment", ""], toDeliver.items.map(deliverRow), "Nothing is on its way."));
}

// --- ops: catalog --------------------------------------------------------------------------------
function productForm(product, onSaved) {
  const creating = !product;
  const field = (name, attrs) => h("input", { name, ...attrs });
  const inputs = {
    sku: field("sku", { placeholder: "sku", value: product?.sku || "", required: creating, disabled: !creating, maxlength: 64, size: 14 }),
    name: field("name", { placeholder: "name", value: product?.name || "", required: true, maxlength: 200, size: 18 }),
    price: field("price", { placeholder: "price (minor units)", type: "number", min: 0, step: 1, value: product?.price ?? "", required: true, size: 7, title: "minor units" }),
    currency: field("currency", { placeholder: "ISO code", value: product?.currency || "USD", required: true, maxlength: 3, size: 4 }),
    stock: field("stock", { type: "number", min: 0, step: 1, value: product?.stock ?? "", size: 6, placeholder: "stock: unlimited" }),
  };
  const kind = h("select", { name: "kind", disabled: !creating }, ["physical", "virtual", "subscription"].map((k) =>
    h("option", { value: k, selected: product?.kind === k }, k)));
  const form = h("form", { class: "inline product-form", on: { submit: async (event) => {
    event.preventDefault();
    await act(form.querySelector("button[type=submit]"), async () => {
      const body = { name: inputs.name.value.trim(), price: Number(inputs.price.value), currency: inputs.currency.value.trim().toUpperCase() };
      if (inputs.stock.value !== "") body.stock = Number(inputs.stock.value);
      const saved = creating
        ? await post("/products", { ...body, sku: inputs.sku.value.trim(), kind: kind.value, active: true })
        : await patch(`/products/${seg(product.sku)}`, body);
      flash(`Product ${saved.sku} saved.`, "info");
      onSaved(saved);
    });
  } } }, creating ? [inputs.sku, kind] : null, inputs.name, inputs.price, inputs.currency, inputs.stock,
  h("button", { type: "submit" }, creating ? "Create" : "Save"));
  return form;
}

async function catalog() {
  const main = screen();
  const page = await get("/products");
  const known = new Map(page.items.map((product) => [product.sku, product]));
  const render = () => mount(main, h("h1", {}, "Catalog"),
    h("section", { class: "card" }, h("h2", {}, "New product"), productForm(null, (saved) => { known.set(saved.sku, saved); render(); })),
    h("p", { class: "muted" }, "Prices in minor units (e.g. cents). Deactivated products leave the shop but stay here until reload."),
    table(["sku", "kind", "", "edit (name, price, currency, stock)", ""], [...known.values()].map((product) => h("tr", { dataset: { sku: product.sku } },
      h("td", {}, h("code", {}, product.sku)), h("td", {}, product.kind),
      h("td", {}, product.active ? badge("active", "ok") : badge("inactive", "bad"), h("div", { class: "muted" }, money(product.price, product.currency))),
      h("td", {}, productForm(product, (saved) => { known.set(saved.sku, saved); render(); })),
      h("td", {}, h("button", { class: "secondary toggle", on: { click: (event) => act(event.currentTarget, async () => {
        const saved = await patch(`/products/${seg(product.sku)}`, { active: !product.active });
        known.set(saved.sku, saved);
        flash(`${saved.sku} ${saved.active ? "activated" : "deactivated"}.`, "info");
        render();
      }) } }, product.active ? "Deactivate" : "Activate"))))));
  render();
}

// --- analyst -------------------------------------------------------------------------------------
const STAGES = {
  created_to_paid: "created → paid", paid_to_shipped: "paid → shipped", shipped_to_delivered: "shipped → delivered",
  refund_requested_to_decided: "refund asked → decided", refund_decided_to_executed: "decided → refunded",
};

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

async function report(from, to) {
  const main = screen();
  const today = new Date();
  from = from || isoDay(new Date(today.getTime() - 6 * 86400000));
  to = to || isoDay(today);
  const fromInput = h("input", { type: "date", id: "report-from", value: from, required: true });
  const toInput = h("input", { type: "date", id: "report-to", value: to, required: true });
  const form = h("form", { class: "inline", on: { submit: (event) => {
    event.preventDefault();
    act(form.querySelector("button"), () => report(fromInput.value, toInput.value));
  } } }, h("label", {}, "From ", fromInput), h("label", {}, "to ", toInput), h("button", { type: "submit" }, "Show"));
  const summary = await get("/reports/summary", { from: `${from}T00:00:00Z`, to: `${to}T23:59:59Z` });
  const counts = Object.entries(summary.counts_by_status || {}).sort((a, b) => b[1] - a[1]);
  const durations = Object.entries(summary.durations || {});
  mount(main, h("h1", {}, "Summary report"), form,
    h("div", { class: "kpis", id: "report-kpis" },
      h("div", { class: "kpi" }, h("b", {}, summary.orders), "orders created"),
      h("div", { class: "kpi" }, h("b", {}, percent(summary.payment_failure_rate)), "payment failure rate"),
      h("div", { class: "kpi" }, h("b", {}, percent(summary.refund_rate)), "refund rate"),
      h("div", { class: "kpi" }, h("b", {}, summary.refunds_requested ?? "—"), `refunds asked (${summary.refunds_failed ?? 0} failed)`),
      h("div", { class: "kpi" }, h("b", {}, summary.average_rating ? summary.average_rating.toFixed(2) : "—"), "average rating")),
    h("div", { class: "grid2" },
      h("section", { class: "card", id: "chart-status" }, h("h2", {}, "Orders by status"),
        counts.length ? barChart({ title: "Orders by status", series: ["orders"], rows: counts.map(([name, count]) => ({ label: name, values: [count] })) })
          : h("p", { class: "muted" }, "No orders in this window.")),
      h("section", { class: "card", id: "chart-durations" }, h("h2", {}, "Stage durations"),
        barChart({ title: "Stage durations, median and p95", series: ["median", "p95"], format: (value) => span(value),
          rows: durations.map(([name, stage]) => ({ label: `${STAGES[name] || name} (${stage.count})`, values: [stage.median_seconds ?? null, stage.p95_seconds ?? null] })) }))),
    h("div", { class: "grid2" },
      h("section", { class: "card", id: "chart-rates" }, h("h2", {}, "Rates"),
        barChart({ title: "Payment failure and refund rates", series: ["rate"], format: percent,
          rows: [{ label: "payment failures", values: [summary.payment_failure_rate ?? null] }, { label: "refunds", values: [summary.refund_rate ?? null] }] }))),
    h("p", { class: "muted" }, `Window ${when(summary.from)} – ${when(summary.to)}, generated ${when(summary.generated_at)}.`));
}

// --- everyone: find an order ---------------------------------------------------------------------
async function findOrder(orderId) {
  const main = screen();
  const input = h("input", { id: "order-id", value: orderId || "", placeholder: "ord_…", required: true, maxlength: 64, size: 40 });
  const form = h("form", { class: "inline", id: "find-order", on: { submit: (event) => {
    event.preventDefault();
    window.location.hash = `#/order/${encodeURIComponent(input.value.trim())}`;
  } } }, input, h("button", { type: "submit" }, "Find"));
  mount(main, h("h1", {}, "Find an order"), form);
  if (orderId) {
    const { parts } = await orderSections(orderId);
    main.append(...parts);
  }
}

// --- routing -------------------------------------------------------------------------------------
async function route() {
  renderChrome();
  flash("");
  if (!(await currentToken())) {
    container = outlet;
    return signInView();
  }
  const [, name, id] = (window.location.hash || "").split("/").map((part) => decodeURIComponent(part || ""));
  const routes = {
    refunds: () => (id ? refundDetail(id) : refundQueue()),
    tickets: () => (id ? ticketDetail(id) : ticketQueue()),
    shipping: () => shipping(),
    catalog: () => catalog(),
    report: () => report(),
    order: () => findOrder(id),
  };
  const view = routes[name];
  if (!view) {
    window.location.hash = firstView();
    return undefined;
  }
  const mine = h("div", { class: "view" }, h("p", { class: "muted" }, "Loading…"));
  container = mine;
  mount(outlet, mine);
  try {
    await view();
  } catch (error) {
    mount(mine, h("p", { class: "muted" }, "This view could not be loaded."));
    if (container === mine) flash(explain(error));
  }
  outlet.dataset.ready = name;
  return undefined;
}

async function start() {
  const response = await fetch("config.json", { cache: "no-store" });
  settings = { ...settings, ...(await response.json()) };
  setApiBase(settings.apiBase);
  configureAuth(settings);
  if (settings.auth === "cognito") {
    try {
      await completeHostedSignIn();
    } catch (error) {
      flash(explain(error));
    }
  }
  window.addEventListener("hashchange", route);
  await route();
  document.documentElement.dataset.rendered = String(Math.round(performance.now()));
}

start().catch((error) => {
  mount(outlet, h("p", {}, "The console could not start: ", String(error)));
});

