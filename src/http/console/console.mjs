// The operator console: the pending asks, the recent ones, and one ask with its timeline and the
// operator's actions. It calls the HTTP API of the server that serves it, with the key the person
// enters (kept in sessionStorage, sent only in the Authorization header), and builds every element
// with textContent, never HTML from data.
import {
  askApiPath,
  describeAnswer,
  eventLabel,
  formatDuration,
  formatUsd,
  maskPhone,
  maskPhonesIn,
  outcomeOf,
  pendingQuery,
  pendingRecipients,
  recipientNote,
  timeLeft,
} from './format.mjs';

const KEY_STORAGE = 'sms-ask.apiKey';
const POLL_MS = 5000;

const $ = (selector) => document.querySelector(selector);

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  /** The key's name and scope, from GET /v1/caller. */
  caller: undefined,
  filters: {},
  /** How many pages of pending asks the list shows: "Show more" adds one, a new filter goes back to one. */
  pendingPages: 1,
  /** Server time minus this browser's, from the Date header: the countdowns follow the server's clock. */
  clockOffsetMs: 0,
  pollTimer: undefined,
  updatedAt: undefined,
  /** The ask the page shows, while it shows one. */
  ask: undefined,
  /** Bumped on each navigation, so that an answer to an older view is dropped. */
  view: 0,
};

const now = () => Date.now() + state.clockOffsetMs;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      cache: 'no-store',
      headers: {
        authorization: `Bearer ${state.key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'network', 'sms-ask did not answer (is `sms-ask serve` running?)');
  }
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) state.clockOffsetMs = date - Date.now();
  let data;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (res.status === 401) {
    signOut('The server refused this key; enter it again.');
    throw new ApiError(401, 'unauthorized', data?.message ?? 'Unauthorized');
  }
  if (!res.ok) throw new ApiError(res.status, data?.error ?? 'error', data?.message ?? `HTTP ${res.status}`);
  return data;
}

/** An element with attributes and children (strings become text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === '') continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A table cell with its column's name, which the phone-width layout shows beside the value (one span: one grid cell). */
function cell(label, ...children) {
  const value = el('span', {}, ...children);
  return el('td', { 'data-label': label }, value.childNodes.length ? value : '');
}

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTime = (iso) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
const time = (iso, text) => el('time', { datetime: iso, title: dateTime(iso) }, text);

/** A countdown to a deadline, kept current every second by tick(). */
const countdown = (deadline) => el('span', { class: 'countdown', 'data-deadline': deadline });
/** "3m 05s ago", kept current by tick(). */
const since = (iso) => el('span', { 'data-since': iso });

function tick() {
  for (const node of document.querySelectorAll('[data-deadline]')) {
    const left = timeLeft(node.dataset.deadline, now());
    node.textContent = left.text;
    node.classList.toggle('overdue', left.overdue);
  }
  for (const node of document.querySelectorAll('[data-since]'))
    node.textContent = formatDuration(now() - Date.parse(node.dataset.since));
  if (state.updatedAt) $('#updated').textContent = `Updated ${clock(new Date(state.updatedAt).toISOString())}`;
}

function showOnly(id) {
  for (const section of ['#sign-in', '#list-view', '#ask-view']) $(section).hidden = section !== id;
}

// ---- signing in and out ---------------------------------------------------------------------------

function signOut(message = '') {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = undefined;
  state.caller = undefined;
  clearTimeout(state.pollTimer);
  $('#who').textContent = '';
  $('#sign-out').hidden = true;
  $('#updated').textContent = '';
  $('#key-error').textContent = message;
  showOnly('#sign-in');
  $('#api-key').focus();
}

async function signIn(key) {
  state.key = key;
  try {
    state.caller = await api('GET', '/v1/caller');
  } catch (err) {
    if (err.status !== 401) $('#key-error').textContent = err.message;
    return false;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $('#who').textContent = `${state.caller.name} (${state.caller.scope})`;
  $('#sign-out').hidden = false;
  $('#key-error').textContent = '';
  return true;
}

// ---- the lists ------------------------------------------------------------------------------------

function pendingRow(ask) {
  return el(
    'tr',
    { 'data-ask-id': ask.askId },
    cell('Question', el('a', { href: `#/ask/${encodeURIComponent(ask.askId)}` }, ask.question)),
    cell('Recipients', pendingRecipients(ask)),
    cell('Tier', String(ask.tier)),
    cell('Reminders', String(ask.remindersSent)),
    cell('Age', since(ask.startedAt)),
    cell('Time left', countdown(ask.deadline)),
    cell('Policy', ask.policy),
    cell('Incident', ask.incident ?? ''),
  );
}

function recentRow(ask) {
  const outcome = outcomeOf(ask);
  return el(
    'tr',
    { 'data-ask-id': ask.askId },
    cell('Question', el('a', { href: `#/ask/${encodeURIComponent(ask.askId)}` }, ask.question)),
    cell(
      'Outcome',
      el('span', { class: `badge ${outcome.kind}` }, outcome.label),
      outcome.detail ? ` (${outcome.detail})` : '',
    ),
    cell('Answer', describeAnswer(ask.answer)),
    cell('Time to answer', ask.timeToAnswerMs === undefined ? '' : formatDuration(ask.timeToAnswerMs)),
    cell('Ended', time(ask.endedAt, `${formatDuration(now() - Date.parse(ask.endedAt))} ago`)),
    cell('Policy', ask.policy),
    cell('Incident', ask.incident ?? ''),
  );
}

/** The first `pages` pages of pending asks, soonest deadline first; `next` when more follow. */
async function pendingAsks(pages) {
  const asks = [];
  let next;
  for (let page = 0; page < pages; page++) {
    const result = await api('GET', `/v1/asks/pending${pendingQuery(state.filters, next)}`);
    asks.push(...result.asks);
    next = result.next;
    if (!next) break;
  }
  return { asks, next };
}

async function refreshLists(view) {
  const [pending, recent] = await Promise.all([
    pendingAsks(state.pendingPages).catch((err) => err),
    api('GET', '/v1/asks/ended?since=24h&limit=50').catch((err) => err),
  ]);
  if (view !== state.view) return;
  const failed = [pending, recent].find((result) => result instanceof Error);
  // A refused filter (a phone that is not one) is the person's to fix; anything else is an update that failed.
  $('#list-error').textContent = pending instanceof ApiError && pending.status === 400 ? pending.message : '';
  if (!(pending instanceof Error)) {
    $('#pending tbody').replaceChildren(...pending.asks.map(pendingRow));
    $('#pending-count').textContent = `(${pending.asks.length}${pending.next ? '+' : ''})`;
    $('#pending-empty').hidden = pending.asks.length > 0;
    $('#pending-more').hidden = !pending.next;
  }
  if (!(recent instanceof Error)) {
    $('#recent tbody').replaceChildren(...recent.asks.map(recentRow));
    $('#recent-empty').hidden = recent.asks.length > 0;
  }
  finishUpdate(failed);
}

// ---- one ask --------------------------------------------------------------------------------------

function summaryItem(term, ...value) {
  return [el('dt', {}, term), el('dd', {}, ...value)];
}

function renderAsk(ask) {
  state.ask = ask;
  $('#ask-question').textContent = ask.question;
  const status = $('#ask-status');
  const outcome = ask.status === 'waiting' ? { label: 'waiting', kind: 'waiting', detail: '' } : outcomeOf(ask);
  status.className = `badge ${outcome.kind}`;
  status.textContent = outcome.detail ? `${outcome.label} (${outcome.detail})` : outcome.label;
  const context = Object.entries(ask.context ?? {}).map(
    ([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  $('#ask-summary').replaceChildren(
    ...summaryItem('Answer', ask.answer ? describeAnswer(ask.answer) : '—'),
    ...summaryItem('Options', ask.options.join(' · ')),
    ...summaryItem('Started', time(ask.startedAt, dateTime(ask.startedAt))),
    ...summaryItem(
      'Deadline',
      time(ask.deadline, dateTime(ask.deadline)),
      ask.status === 'waiting' ? [' (', countdown(ask.deadline), ')'] : '',
    ),
    ...(ask.endedAt ? summaryItem('Ended', time(ask.endedAt, dateTime(ask.endedAt))) : []),
    ...summaryItem('Tier', String(ask.tier)),
    ...summaryItem('Reminders sent', String(ask.remindersSent)),
    ...summaryItem('Policy', ask.policyName),
    ...(ask.costUsd !== undefined ? summaryItem('SMS cost', formatUsd(ask.costUsd)) : []),
    ...(ask.cancelReason ? summaryItem('Cancelled because', ask.cancelReason) : []),
    ...(context.length ? summaryItem('Context', context.join(', ')) : []),
    ...summaryItem('Ask id', el('code', {}, ask.askId)),
  );

  $('#recipients tbody').replaceChildren(
    ...ask.recipients.map((recipient) =>
      el(
        'tr',
        {},
        cell('Phone', maskPhone(recipient.phone)),
        cell('Tier', String(recipient.tier)),
        cell('Codes', recipient.codes.map((c) => `${c.option} ${c.code}`).join(' · ')),
        cell('Answer', recipient.answer ? `${recipient.answer.option} at ${clock(recipient.answer.at)}` : ''),
        cell('Note', recipientNote(recipient)),
      ),
    ),
  );

  const started = Date.parse(ask.startedAt);
  $('#timeline').replaceChildren(
    ...ask.events.map((event) =>
      el(
        'li',
        { class: `event ${event.type}` },
        el(
          'span',
          { class: 'when' },
          time(event.at, clock(event.at)),
          el('span', { class: 'offset' }, `+${formatDuration(Date.parse(event.at) - started)}`),
        ),
        el('span', { class: 'what' }, eventLabel(event.type)),
        event.by ? el('span', { class: 'by' }, `by ${event.by}`) : '',
        event.phone ? el('span', { class: 'phone' }, maskPhone(event.phone)) : '',
        event.detail ? el('span', { class: 'detail' }, maskPhonesIn(event.detail)) : '',
      ),
    ),
  );

  // A read key gets no buttons at all (and the server refuses its calls anyway). Once the ask has
  // ended they stay: the page may be a poll behind, so the workflow's own refusal is the answer.
  const actions = $('#actions');
  actions.hidden = state.caller?.scope !== 'operate';
  $('#actions-note').textContent =
    ask.status === 'waiting'
      ? `Recorded in the timeline under "${state.caller?.name}", with your reason.`
      : `This ask has ended (${outcome.label}); sms-ask will refuse any change and say why.`;
}

async function refreshAsk(view, askId) {
  try {
    const ask = await api('GET', askApiPath(askId));
    if (view !== state.view) return;
    $('#ask-error').textContent = '';
    renderAsk(ask);
    finishUpdate();
  } catch (err) {
    if (view !== state.view) return;
    if (err.status === 404) $('#ask-error').textContent = err.message;
    finishUpdate(err);
  }
}

// ---- actions --------------------------------------------------------------------------------------

const ACTIONS = {
  answer: {
    title: 'Answer for the recipient',
    help: 'The ask ends with this answer, as if it came by SMS.',
    done: (ask) => `Answered: ${ask.answer?.option}.`,
  },
  extend: {
    title: 'Extend the deadline',
    help: 'Adds to the current deadline; reminders and escalations move with it.',
    done: (ask) => `Deadline now ${dateTime(ask.deadline)}.`,
  },
  resend: {
    title: 'Send the question again',
    help: 'Same codes, to everyone who has not answered.',
    done: () => 'Sent again.',
  },
  cancel: {
    title: 'Cancel the ask',
    help: 'The ask ends without an answer; its recipients are told.',
    done: () => 'Cancelled.',
  },
};

let pendingAction;

function openAction(action) {
  const ask = state.ask;
  if (!ask) return;
  pendingAction = action;
  const form = $('#action-form');
  form.reset();
  $('#action-title').textContent = ACTIONS[action].title;
  $('#action-help').textContent = ACTIONS[action].help;
  $('#action-error').textContent = '';
  $('#option-field').hidden = action !== 'answer';
  $('#by-field').hidden = action !== 'extend';
  form.elements.option.replaceChildren(...ask.options.map((option) => el('option', { value: option }, option)));
  form.elements.option.required = action === 'answer';
  form.elements.by.required = action === 'extend';
  $('#action-submit').textContent = { answer: 'Answer', extend: 'Extend', resend: 'Resend', cancel: 'Cancel the ask' }[
    action
  ];
  $('#action-dialog').showModal();
  (action === 'answer' ? form.elements.option : action === 'extend' ? form.elements.by : form.elements.reason).focus();
}

async function submitAction(event) {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity() || !state.ask || !pendingAction) return;
  const action = pendingAction;
  const reason = form.elements.reason.value.trim();
  const body = {
    reason,
    ...(action === 'answer' && { option: form.elements.option.value }),
    ...(action === 'extend' && { by: form.elements.by.value.trim() }),
  };
  const submit = $('#action-submit');
  submit.disabled = true;
  try {
    const ask = await api('POST', `${askApiPath(state.ask.askId)}/${action}`, body);
    $('#action-dialog').close();
    renderAsk(ask);
    $('#action-result').textContent = ACTIONS[action].done(ask);
    finishUpdate();
  } catch (err) {
    $('#action-error').textContent = err.message;
  } finally {
    submit.disabled = false;
  }
}

// ---- navigation and polling -----------------------------------------------------------------------

function finishUpdate(error) {
  if (!error) state.updatedAt = Date.now();
  $('#update-error').textContent =
    error && error.status !== 400 && error.status !== 404 ? `· update failed: ${error.message}; retrying` : '';
  tick();
}

function currentRoute() {
  const match = /^#\/ask\/(.+)$/.exec(location.hash);
  return match ? { view: 'ask', askId: decodeURIComponent(match[1]) } : { view: 'list' };
}

async function refresh() {
  clearTimeout(state.pollTimer);
  if (!state.caller) return;
  const view = state.view;
  const route = currentRoute();
  if (route.view === 'ask') await refreshAsk(view, route.askId);
  else await refreshLists(view);
  // Polling pauses while the tab is hidden, and catches up when it shows again.
  if (view === state.view && !document.hidden) state.pollTimer = setTimeout(refresh, POLL_MS);
}

function navigate() {
  state.view += 1;
  if (!state.caller) return;
  const route = currentRoute();
  state.ask = undefined;
  $('#action-result').textContent = '';
  if (route.view === 'ask') {
    for (const id of ['#ask-question', '#ask-status', '#ask-error']) $(id).textContent = '';
    for (const id of ['#ask-summary', '#recipients tbody', '#timeline']) $(id).replaceChildren();
    $('#actions').hidden = true;
    showOnly('#ask-view');
  } else {
    showOnly('#list-view');
  }
  $('#main').focus({ preventScroll: true });
  void refresh();
}

function readFilters() {
  const form = $('#filters');
  return {
    to: form.elements.to.value,
    incident: form.elements.incident.value,
    policy: form.elements.policy.value,
    overdue: form.elements.overdue.checked,
    escalated: form.elements.escalated.checked,
  };
}

function wire() {
  $('#key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('#api-key');
    const key = input.value.trim();
    if (!key) return;
    if (await signIn(key)) {
      input.value = '';
      navigate();
    } else {
      input.select();
    }
  });
  $('#sign-out').addEventListener('click', () => signOut());
  // The skip link moves the focus only: the address's fragment is the page's route.
  $('.skip').addEventListener('click', (event) => {
    event.preventDefault();
    $('#main').focus();
  });
  $('#pending-more').addEventListener('click', () => {
    state.pendingPages += 1;
    void refresh();
  });
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    state.filters = readFilters();
    state.pendingPages = 1;
    state.view += 1;
    void refresh();
  });
  $('#filters').addEventListener('reset', () => {
    state.filters = {};
    state.pendingPages = 1;
    state.view += 1;
    setTimeout(refresh);
  });
  for (const button of document.querySelectorAll('[data-action]'))
    button.addEventListener('click', () => openAction(button.dataset.action));
  $('#action-form').addEventListener('submit', submitAction);
  $('#action-close').addEventListener('click', () => $('#action-dialog').close());
  window.addEventListener('hashchange', navigate);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  setInterval(tick, 1000);
}

/** How long to wait before asking again when sms-ask did not answer a stored key's check. */
const RETRY_SIGN_IN_MS = 5000;

async function start() {
  wire();
  if (!state.key) return signOut();
  // Only a refusal (401, which signs out) forgets the stored key; while sms-ask does not answer,
  // the page says so and tries again, so a restart of the server does not sign everyone out.
  while (state.key && !state.caller) {
    if (await signIn(state.key)) return navigate();
    if (!state.key || state.caller) return;
    showOnly('#sign-in');
    $('#key-error').textContent += ' Trying again…';
    await new Promise((resolve) => setTimeout(resolve, RETRY_SIGN_IN_MS));
  }
}

void start();
