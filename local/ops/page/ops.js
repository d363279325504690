// The ops page's script: reads the local-only JSON API of the ops server (local/ops/server.ts)
// every two seconds and draws it with plain DOM calls (data never goes through innerHTML).
'use strict';

const POLL_MS = 2000;
const LIST_TITLES = { payments: 'Payments', refunds: 'Refunds', carts: 'Carts', payouts: 'Payouts' };

/** Last status seen of each row, to announce what changed (and nothing when nothing did). */
const seenStatus = new Map();
let openPayment = null;
let firstLoad = true;
/** The lists last drawn: when they are the same, only the ages move, so a focused button keeps its focus. */
let drawnLists = '';

/** The one place an amount in minor units becomes text: the currency's own number of decimals. */
function formatAmount(amount, currency) {
  if (!/^[A-Z]{3}$/i.test(currency)) return String(amount);
  const format = new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** digits);
}

function age(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'className') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of [].concat(children)) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

/** A table with a caption, column headers and one row per item; `cells` gives each row's cells. */
function table(caption, headers, items, cells, rowProps = () => ({})) {
  return element('table', {}, [
    element('caption', {}, caption),
    element('thead', {}, element('tr', {}, headers.map((header) => element('th', { scope: 'col' }, header)))),
    element('tbody', {}, items.map((item) => element('tr', rowProps(item), cells(item)))),
  ]);
}

function statusCell(status) {
  return element('td', { className: `status status-${status}` }, status);
}

async function getJson(url, init) {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(body && body.error ? body.error : `${url} answered ${response.status}`);
  return body;
}

function announce(text) {
  document.getElementById('updates').textContent = text;
}

function renderLists(lists) {
  const signature = JSON.stringify(lists);
  if (signature === drawnLists) {
    for (const cell of document.querySelectorAll('#lists td[data-created]')) cell.textContent = age(cell.dataset.created);
    return;
  }
  drawnLists = signature;
  const changes = [];
  const sections = Object.entries(LIST_TITLES).map(([kind, title]) => {
    const view = lists[kind];
    if (view.error) return element('p', { id: kind }, `${title}: ${view.error}`);
    for (const row of view.rows) {
      const key = `${kind}:${row.id}`;
      if (seenStatus.has(key) && seenStatus.get(key) !== row.status) changes.push(`${row.id} is now ${row.status}`);
      seenStatus.set(key, row.status);
    }
    const idCell = (row) =>
      kind === 'payments'
        ? element('td', {}, element('button', { type: 'button', className: 'link', onclick: () => showPayment(row.id) }, row.id))
        : element('td', {}, row.id);
    const rendered = table(
      `${title} (${view.rows.length})`,
      ['Id', 'Status', 'Amount', 'Age'],
      view.rows,
      (row) => [idCell(row), statusCell(row.status), element('td', { className: 'number' }, formatAmount(row.amount, row.currency)), element('td', { dataset: { created: row.created } }, age(row.created))],
      (row) => ({ dataset: { id: row.id } }),
    );
    rendered.id = kind;
    return rendered;
  });
  document.getElementById('lists').replaceChildren(...sections);
  if (firstLoad) announce(`Loaded ${lists.payments.rows ? lists.payments.rows.length : 0} payments.`);
  else if (changes.length > 0) announce(changes.join('; '));
  firstLoad = false;
}

function renderCounters({ metrics }) {
  const body = document.querySelector('#counters tbody');
  body.replaceChildren(
    ...metrics.map((metric) =>
      element('tr', {}, [
        element('td', {}, metric.name),
        element('td', {}, Object.entries(metric.dimensions).map(([name, value]) => `${name}=${value}`).join(', ')),
        element('td', { className: 'number' }, metric.sum),
        element('td', { className: 'number' }, metric.samples),
      ]),
    ),
  );
}

function renderPayment({ payment, executions, provider }) {
  const facts = [
    ['Status', payment.status],
    ['Amount', formatAmount(payment.amount, payment.currency)],
    ['Captured', formatAmount(payment.amount_captured ?? 0, payment.currency)],
    ['Order', payment.order_no],
    ['Decline code', payment.decline_code ?? '—'],
    ['Created', payment.created_at],
  ];
  const summary = element('dl', {}, facts.flatMap(([term, value]) => [element('dt', {}, term), element('dd', {}, value)]));
  const sagas = executions.length === 0
    ? [element('p', {}, 'No saga execution yet.')]
    : executions.map((execution) =>
        table(
          `Saga execution ${execution.name}: ${execution.status}`,
          ['Time', 'Event', 'State', 'Error'],
          execution.events,
          (event) => [element('td', {}, event.at ? event.at.slice(11, 23) : ''), element('td', {}, event.type), element('td', {}, event.state ?? ''), element('td', {}, event.error ?? '')],
          (event) => ({ dataset: { state: event.state ?? '', event: event.type } }),
        ),
      );
  const intents = table(
    'Provider: PaymentIntents',
    ['Id', 'Status', 'Amount', 'Card', 'Captured', 'Captures', 'Declined', 'Canceled'],
    provider.paymentIntents,
    (intent) => [
      element('td', {}, intent.id),
      statusCell(intent.status),
      element('td', { className: 'number' }, formatAmount(intent.amount, intent.currency)),
      element('td', {}, intent.card ?? '—'),
      element('td', { className: 'number' }, formatAmount(intent.captured, intent.currency)),
      element('td', { className: 'number' }, intent.captures),
      element('td', {}, intent.declined ?? '—'),
      element('td', {}, intent.canceled ?? '—'),
    ],
  );
  const calls = table(
    'Provider: calls that changed something',
    ['Time', 'Request', 'Status', 'Idempotency-Key'],
    provider.calls,
    (call) => [element('td', {}, call.at.slice(11, 19)), element('td', {}, call.request), element('td', { className: 'number' }, call.status), element('td', {}, call.idempotencyKey ?? '—')],
  );
  document.getElementById('detail-body').replaceChildren(summary, element('h3', {}, 'Saga'), ...sagas, element('h3', {}, 'Provider'), intents, calls);
}

async function showPayment(paymentNo) {
  openPayment = paymentNo;
  const section = document.getElementById('detail');
  section.hidden = false;
  document.getElementById('detail-heading').textContent = `Payment ${paymentNo}`;
  await refreshPayment();
  document.getElementById('detail-heading').focus();
}

async function refreshPayment() {
  if (openPayment === null) return;
  try {
    renderPayment(await getJson(`/api/payments/${encodeURIComponent(openPayment)}`));
  } catch (error) {
    document.getElementById('detail-body').replaceChildren(element('p', {}, error.message));
  }
}

async function poll() {
  try {
    const [lists, counters] = await Promise.all([getJson('/api/lists'), getJson('/api/counters')]);
    renderLists(lists);
    renderCounters(counters);
    await refreshPayment();
  } catch (error) {
    announce(`Could not read the stack: ${error.message}`);
  }
}

async function loadControls() {
  const controls = await getJson('/api/controls');
  const fill = (id, values) => document.getElementById(id).append(...values.map((value) => element('option', { value }, value)));
  fill('card', controls.cards);
  fill('crash-point', controls.crashPoints);
  fill('fault', controls.faults);
}

async function runPayment(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const request = { payment_method: form.get('payment_method'), amount: Number(form.get('amount')), currency: form.get('currency') };
  if (form.get('crash_point')) request.crash_point = form.get('crash_point');
  if (form.get('fault')) request.fault = form.get('fault');
  const result = document.getElementById('run-result');
  result.dataset.paymentNo = '';
  result.textContent = 'Running…';
  try {
    const answer = await getJson('/api/payments', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
    result.dataset.paymentNo = answer.payment_no ?? '';
    result.textContent = answer.payment_no
      ? `Payment ${answer.payment_no} created (API answered ${answer.answers.join(', then ')}).`
      : `The API answered ${answer.answers.join(', then ')}: ${JSON.stringify(answer.body)}`;
  } catch (error) {
    result.textContent = `Not run: ${error.message}`;
  }
  await poll();
}

document.getElementById('run-form').addEventListener('submit', runPayment);
loadControls().then(poll, (error) => announce(`Could not load the controls: ${error.message}`));
setInterval(poll, POLL_MS);
