// The window: renders the state the app sends on every change and turns clicks into commands.
// Every command goes through `call`, which shows a failed command's error in the page.

import { core, language, loadCoreTexts, missingKeys, setLanguage, t, translatePage } from './i18n.js';

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);

let state = null;
let demoRows = [];
let settingsDirty = false;
// The text of the line next to Save, as a function so that a language change re-renders it.
let settingsStatus = null;
let settingsStatusTimer = null;
// How long "Settings saved" stays next to the Save button.
const SAVED_NOTE_MS = 5000;

/** Sets text only when it changed, so screen readers do not repeat live regions. */
function setText(element, text) {
  const value = text ?? '';
  if (element.textContent !== value) {
    element.textContent = value;
  }
}

function show(element, visible) {
  element.hidden = !visible;
}

function millis(duration) {
  return duration ? duration.secs * 1000 + duration.nanos / 1e6 : 0;
}

function formatLatency(duration) {
  const ms = millis(duration);
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = new Intl.NumberFormat(language(), { maximumFractionDigits: 1 }).format(ms / 1000);
  return `${seconds} s`;
}

function formatTime(unixMs) {
  if (unixMs == null) {
    return '';
  }
  const date = new Date(unixMs);
  const sameDay = date.toDateString() === new Date().toDateString();
  const options = sameDay
    ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { weekday: 'short', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(language(), options).format(date);
}

// Command errors with a text of their own; the others show the app's message.
const errorKeys = {
  stopped: 'errorStopped',
  managed: 'errorManaged',
  unsupported: 'errorUnsupported',
};

/** Returns the text of a failed command: our own for known kinds, else the app's message. */
function errorMessage(error) {
  const key = errorKeys[error?.kind];
  return key ? t(key) : (error?.message ?? String(error));
}

function showError(error) {
  const kind = error?.kind;
  const banner = $('command-error');
  banner.dataset.kind = kind ?? 'unknown';
  setText(banner, errorKeys[kind] ? errorMessage(error) : t('errorGeneric', { message: errorMessage(error) }));
  show(banner, true);
}

/** Runs a command; a failure shows in the banner, and `onError` gets the error too. */
async function call(command, args = {}, onError = undefined) {
  try {
    const result = await invoke(command, args);
    show($('command-error'), false);
    return result;
  } catch (error) {
    console.error(command, error);
    showError(error);
    onError?.(error);
    return undefined;
  }
}

// Rendering, one function per part of the window.

function renderHeader(s) {
  const demo = s.mode.kind === 'demo';
  show($('demo-badge'), demo);
  const modeText = {
    demo: t('modeDemo'),
    tenant: t('modeTenant', { tenant: s.mode.tenant }),
    'not-configured': t('modeNotConfigured'),
  }[s.mode.kind];
  setText($('mode-text'), modeText);
  show($('tray-hint'), !s.tray_host);
  show($('quit'), !s.tray_host);
  const configError = $('config-error');
  if (s.mode.kind === 'not-configured') {
    setText(configError, t('configError', { path: s.mode.path, error: s.mode.error.trim() }));
  }
  show(configError, s.mode.kind === 'not-configured');
  show($('stopped'), s.snapshot.stopped);
}

const swyxTones = {
  Available: 'available',
  Away: 'away',
  DoNotDisturb: 'do-not-disturb',
  Speaking: 'busy',
  LoggedOff: 'offline',
};

function renderHealth(prefix, health, nextRetry) {
  const text = $(`${prefix}-health-text`);
  const box = $(`${prefix}-health`);
  box.dataset.state = health.state;
  let message;
  switch (health.state) {
    case 'ok':
      message = t('healthOk');
      break;
    case 'signed-out':
      message = t('healthSignedOut');
      break;
    case 'degraded':
      message = nextRetry
        ? t('healthDegradedAt', { reason: core(health.reason), time: formatTime(nextRetry) })
        : t('healthDegraded', { reason: core(health.reason) });
      break;
    default:
      message = t('healthUnavailable', { reason: core(health.reason), action: core(health.action) });
  }
  setText(text, message);
}

function renderPair(s) {
  const view = s.snapshot.view;
  $('teams-dot').className = `dot tone-${s.tone}`;
  const teamsText = view.teams_label ? core(view.teams_label) : t('notRead');
  setText($('teams-status'), s.teams_stale ? `${teamsText} ${core('(last known)')}` : teamsText);
  $('teams-status').classList.toggle('stale', s.teams_stale);
  // The bound holds only while the app reads Teams without failures: signed in and
  // connected, sync on and not paused.
  const polling = view.health_teams.state === 'ok'
    && view.sync_enabled
    && view.paused_until == null
    && !s.snapshot.stopped;
  show($('teams-bound'), polling);
  // After 429 responses the engine polls less often than the settings ask, for minutes.
  const intervalSeconds = millis(view.poll_interval) / 1000;
  const chosenSeconds = Math.max(s.settings.poll_interval_secs, s.settings.min_poll_interval_secs);
  setText($('teams-bound'), t(intervalSeconds > chosenSeconds + 0.05 ? 'pollBoundSlowed' : 'pollBound', {
    seconds: new Intl.NumberFormat(language(), { maximumFractionDigits: 1 }).format(intervalSeconds),
  }));

  $('swyx-dot').className = `dot tone-${swyxTones[view.swyx] ?? 'offline'}`;
  const swyxText = view.swyx_label ? core(view.swyx_label) : t('notRead');
  setText($('swyx-status'), s.swyx_gone ? core('Not available') : swyxText);
  // The target is Speaking during a Teams call or presentation, and during a Swyx call that
  // the app shows in Teams. No app can set Speaking: during a Swyx call the call itself sets
  // it, and otherwise the app writes the status chosen in the settings.
  const label = (status) => (status === 'DoNotDisturb' ? 'Do not disturb' : status);
  let targetText = '';
  if (view.target === 'Speaking' && view.swyx === 'Speaking') {
    targetText = t('swyxTargetCall');
  } else if (view.target === 'Speaking') {
    targetText = t('swyxTargetSubstitute', { target: core(label(s.settings.speaking_substitute)) });
  } else if (view.target) {
    targetText = t('swyxTarget', { target: core(label(view.target)) });
  }
  setText($('swyx-target'), targetText);

  renderHealth('teams', view.health_teams, s.times.next_retry_teams);
  renderHealth('swyx', view.health_swyx, s.times.next_retry_swyx);
  const teamsAction = $('teams-health-action');
  const needsSignIn = ['signed-out', 'unavailable'].includes(view.health_teams.state);
  setText(teamsAction, s.snapshot.signing_in ? t('signingIn') : t('signIn'));
  teamsAction.disabled = s.snapshot.signing_in;
  show(teamsAction, needsSignIn);

  const lastSync = (key, last, at) => (last
    ? t('lastSync', { direction: t(key), time: formatTime(at), latency: formatLatency(last.latency) })
    : t('lastSyncNone', { direction: t(key) }));
  setText($('last-t2s'), lastSync('teamsToSwyx', view.last_teams_to_swyx, s.times.last_teams_to_swyx));
  setText($('last-s2t'), lastSync('swyxToTeams', view.last_swyx_to_teams, s.times.last_swyx_to_teams));
}

function renderNotices(s) {
  const view = s.snapshot.view;
  const warnings = new Set(view.warnings);
  setText($('override'), core(view.override_text));
  show($('override'), Boolean(view.override_text));
  show($('conflict'), warnings.has('conflict'));
  show($('shared-writer'), warnings.has('shared-writer'));

  const mismatch = $('identity-mismatch');
  setText(mismatch, t('identityMismatch', {
    email: s.snapshot.swyx_identity.email ?? t('none'),
    upn: s.snapshot.account?.upn ?? t('none'),
  }));
  show(mismatch, s.identity_mismatch);

  const reason = s.snapshot.account?.not_persisted_reason;
  setText($('not-persisted'), reason ? t('notPersisted', { reason }) : '');
  show($('not-persisted'), Boolean(reason));

  const error = s.snapshot.sign_in_error;
  if (error) {
    const message = core(error.message);
    setText($('sign-in-error-text'), error.code
      ? t('signInErrorCode', { code: error.code, message })
      : t('signInError', { message }));
    setText($('sign-in-error-action'), core(error.action));
    setText($('sign-in-error-link').querySelector('code'), error.link ?? '');
    show($('sign-in-error-link'), Boolean(error.link));
    $('sign-in-retry').disabled = s.snapshot.signing_in;
    // Without a valid configuration file a retry fails the same way. The action text tells
    // the user what helps.
    show($('sign-in-retry'), s.mode.kind !== 'not-configured');
  }
  show($('sign-in-error'), Boolean(error));
}

function renderControls(s) {
  const view = s.snapshot.view;
  $('sync-switch').checked = view.sync_enabled;
  $('t2s-switch').checked = view.teams_to_swyx;
  $('s2t-switch').checked = view.swyx_to_teams;
  $('t2s-switch').disabled = !view.sync_enabled;
  $('s2t-switch').disabled = !view.sync_enabled;
  const paused = view.paused_until != null;
  $('resume').disabled = !paused;
  // With sync switched off there is nothing to pause.
  for (const button of document.querySelectorAll('[data-pause]')) {
    button.disabled = !view.sync_enabled;
  }
  const pausedText = paused
    ? (s.times.paused_until ? t('pausedUntil', { time: formatTime(s.times.paused_until) }) : t('paused'))
    : '';
  setText($('paused-text'), pausedText);
}

function renderAccounts(s) {
  const account = s.snapshot.account;
  setText($('upn'), account?.upn ?? t('none'));
  setText($('display-name'), account?.display_name ?? t('none'));
  show($('sign-in'), !account);
  show($('sign-in-code'), !account);
  show($('sign-out'), Boolean(account));
  $('sign-in').disabled = s.snapshot.signing_in;
  $('sign-in-code').disabled = s.snapshot.signing_in;
  setText($('sign-in'), s.snapshot.signing_in ? t('signingIn') : t('signIn'));

  const code = s.snapshot.device_code;
  show($('device-code'), Boolean(code));
  if (code) {
    setText($('device-code-text'), t('deviceCodeText', {
      uri: code.verification_uri,
      time: formatTime(code.expires_at_unix_ms),
    }));
    setText($('device-code-value'), code.user_code);
  }

  const identity = s.snapshot.swyx_identity;
  setText($('swyx-email'), identity.email ?? t('none'));
  setText($('swyx-user'), identity.user ?? t('none'));
  setText($('swyx-server'), identity.server ?? t('none'));
}

function renderHistory(s) {
  const entries = [...s.snapshot.history].reverse();
  show($('history-empty'), entries.length === 0);
  show($('history'), entries.length > 0);
  const rows = entries.map((entry) => {
    const row = document.createElement('tr');
    const cells = [
      formatTime(entry.at_unix_ms),
      t(entry.direction === 'teams-to-swyx' ? 'teamsToSwyx' : 'swyxToTeams'),
      `${core(entry.from)} → ${core(entry.to)}`,
      formatLatency(entry.latency),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  $('history-rows').replaceChildren(...rows);
}

function renderSettings(s) {
  const settings = s.settings;
  const managed = new Set(settings.managed);
  for (const marker of document.querySelectorAll('[data-managed]')) {
    show(marker, managed.has(marker.dataset.managed));
  }
  const lock = (id, name) => { $(id).disabled = managed.has(name); };
  lock('poll-interval', 'poll_interval_secs');
  lock('speaking-substitute', 'speaking_substitute');
  lock('dnd-sets-dnd', 'dnd_sets_dnd');
  lock('away-sets-away', 'away_sets_away');
  lock('language', 'language');
  lock('start-at-login', 'start_at_login');
  $('poll-interval').dataset.min = String(settings.min_poll_interval_secs);

  if (!settingsDirty) {
    $('poll-interval').value = new Intl.NumberFormat(language(), { maximumFractionDigits: 2, useGrouping: false })
      .format(settings.poll_interval_secs);
    $('speaking-substitute').value = settings.speaking_substitute;
    $('dnd-sets-dnd').checked = settings.dnd_sets_dnd;
    $('away-sets-away').checked = settings.away_sets_away;
  }
  // Again on every render: the minimum and the language may have changed.
  validatePollInterval();
  setText($('settings-status'), settingsStatus?.() ?? '');
  $('language').value = settings.language;
  $('start-at-login').checked = settings.start_at_login === true;
}

function renderDiagnostics(s) {
  const view = s.snapshot.view;
  setText($('own-session'), view.own_session ? t('yes') : t('no'));
  setText($('throttles'), String(view.throttle_count));
  const counts = s.snapshot.notifications;
  setText($('notifications'), String(counts.sign_in + counts.swyx_gone + counts.conflict));
  setText($('log-folder'), s.log_folder);
}

function renderDemo(s) {
  const demo = s.mode.kind === 'demo';
  show($('demo-panel'), demo);
  if (!demo) {
    return;
  }
  const teams = s.snapshot.view.teams;
  for (const button of $('demo-rows').querySelectorAll('button')) {
    const row = demoRows[Number(button.dataset.row)];
    setText(button, core(row.label));
    const current = teams
      && teams.availability.toLowerCase() === row.availability.toLowerCase()
      && teams.activity.toLowerCase() === row.activity.toLowerCase()
      && teams.is_out_of_office === row.out_of_office;
    button.setAttribute('aria-pressed', current ? 'true' : 'false');
  }
  const tour = $('demo-tour');
  tour.disabled = s.demo_tour_running;
  setText(tour, s.demo_tour_running ? t('demoTourRunning') : t('demoTour'));
}

function render(s) {
  state = s;
  if (language() !== s.language) {
    setLanguage(s.language);
    translatePage();
  }
  document.body.dataset.tone = s.tone;
  document.body.dataset.badge = s.badge;
  // The tray's tooltip, also on the window's logo: the window shows what the tray shows.
  $('tray-state').title = s.tooltip;
  renderHeader(s);
  renderPair(s);
  renderNotices(s);
  renderControls(s);
  renderAccounts(s);
  renderHistory(s);
  renderSettings(s);
  renderDiagnostics(s);
  renderDemo(s);
  if (s.snapshot.stopped) {
    renderStopped();
  }
}

/** A stopped core takes no commands: only Restart, Quit and the diagnostics still work. */
function renderStopped() {
  for (const prefix of ['teams', 'swyx']) {
    $(`${prefix}-health`).dataset.state = 'unavailable';
    setText($(`${prefix}-health-text`), t('errorStopped'));
  }
  const commands = '#teams-health-action, #resolve-conflict, #controls input, #controls button, '
    + '#demo-panel button, #accounts button, #settings input, #settings select, #settings button';
  for (const control of document.querySelectorAll(commands)) {
    control.disabled = true;
  }
}

// Event wiring.

function bindControls() {
  $('sync-switch').addEventListener('change', (event) => call('set_sync', { enabled: event.target.checked }));
  $('t2s-switch').addEventListener('change', (event) => call('set_direction', { direction: 'teams-to-swyx', enabled: event.target.checked }));
  $('s2t-switch').addEventListener('change', (event) => call('set_direction', { direction: 'swyx-to-teams', enabled: event.target.checked }));
  for (const button of document.querySelectorAll('[data-pause]')) {
    button.addEventListener('click', () => {
      const value = button.dataset.pause;
      const length = value === 'tomorrow' ? 'until-tomorrow' : { minutes: Number(value) };
      call('pause', { length });
    });
  }
  $('resume').addEventListener('click', () => call('resume'));
  $('quit').addEventListener('click', () => call('quit'));
  $('restart').addEventListener('click', () => call('restart'));
  $('resolve-conflict').addEventListener('click', () => call('resolve_conflict'));
  for (const id of ['sign-in', 'teams-health-action', 'sign-in-retry']) {
    $(id).addEventListener('click', () => call('sign_in'));
  }
  $('sign-in-code').addEventListener('click', () => call('sign_in_with_code'));
  $('cancel-sign-in').addEventListener('click', () => call('cancel_sign_in'));
  $('sign-out').addEventListener('click', () => call('sign_out'));
  $('copy-diagnostics').addEventListener('click', copyDiagnostics);
}

/** Reads the check interval as typed, with a decimal point or comma; NaN when it is no number. */
function pollIntervalValue() {
  const text = $('poll-interval').value.trim().replace(',', '.');
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

/**
 * Checks the check interval against its limits and sets a message in the page's language that
 * names them all. The field is plain text, because a number field rejects the decimal comma
 * that German users type.
 */
function validatePollInterval() {
  const field = $('poll-interval');
  const value = pollIntervalValue();
  const [min, max, step] = ['min', 'max', 'step'].map((name) => Number(field.dataset[name]));
  const steps = value / step;
  const valid = value >= min && value <= max && Math.abs(steps - Math.round(steps)) < 1e-9;
  if (valid) {
    field.setCustomValidity('');
    return;
  }
  const number = (limit) => new Intl.NumberFormat(language(), { maximumFractionDigits: 2 }).format(limit);
  field.setCustomValidity(t('pollIntervalInvalid', { min: number(min), max: number(max), step: number(step) }));
}

/** Shows `text()` next to the Save button; a success goes away after a few seconds. */
function showSettingsStatus(text, failed = false) {
  clearTimeout(settingsStatusTimer);
  settingsStatus = text;
  const status = $('settings-status');
  status.classList.toggle('failed', failed);
  setText(status, text?.() ?? '');
  if (text && !failed) {
    settingsStatusTimer = setTimeout(() => showSettingsStatus(null), SAVED_NOTE_MS);
  }
}

/** Copies the diagnostics text, with a selected textarea where the clipboard API is rejected. */
async function copyDiagnostics() {
  const text = await call('diagnostics');
  if (text === undefined) {
    return;
  }
  const note = $('diagnostics-copied');
  try {
    await navigator.clipboard.writeText(text);
    setText(note, t('diagnosticsCopied'));
    return;
  } catch (error) {
    console.warn('clipboard API failed; trying the textarea fallback', error);
  }
  let area = $('diagnostics-text');
  if (!area) {
    area = document.createElement('textarea');
    area.id = 'diagnostics-text';
    area.dataset.i18nAriaLabel = 'diagnosticsText';
    area.setAttribute('aria-label', t('diagnosticsText'));
    area.readOnly = true;
    area.rows = 8;
    note.parentElement.after(area);
  }
  area.value = text;
  area.select();
  const copied = document.execCommand('copy');
  setText(note, copied ? t('diagnosticsCopied') : t('diagnosticsNotCopied'));
}

function bindSettings() {
  const form = $('settings');
  form.addEventListener('input', (event) => {
    settingsDirty = true;
    event.target.removeAttribute('aria-invalid');
    if (event.target.id === 'poll-interval') {
      validatePollInterval();
    }
    showSettingsStatus(null);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    validatePollInterval();
    // A field left invalid blocks the whole form, so the line next to Save names it. The form
    // has `novalidate`, so WebKit does not stop the submit before this handler runs.
    const invalid = form.querySelector(':invalid');
    if (invalid) {
      invalid.setAttribute('aria-invalid', 'true');
      showSettingsStatus(() => t('notSavedInvalid', {
        field: invalid.labels?.[0]?.textContent.trim() ?? invalid.name,
        message: invalid.validationMessage,
      }), true);
      form.reportValidity();
      return;
    }
    const settings = {
      poll_interval_secs: pollIntervalValue(),
      speaking_substitute: $('speaking-substitute').value,
      dnd_sets_dnd: $('dnd-sets-dnd').checked,
      away_sets_away: $('away-sets-away').checked,
    };
    const saved = await call('save_settings', { settings }, (error) => {
      showSettingsStatus(() => t('notSaved', { message: errorMessage(error) }), true);
    });
    if (saved !== undefined) {
      settingsDirty = false;
      showSettingsStatus(() => t('saved'));
      if (state) render(state);
    }
  });
  $('language').addEventListener('change', (event) => call('set_language', { language: event.target.value }));
  $('start-at-login').addEventListener('change', (event) => call('set_start_at_login', { enabled: event.target.checked }));
}

async function bindDemo() {
  const rows = await call('demo_rows');
  demoRows = rows ?? [];
  const buttons = demoRows.map((row, index) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.row = String(index);
    button.textContent = core(row.label);
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => call('demo_set_teams', { row: index }));
    return button;
  });
  $('demo-rows').replaceChildren(...buttons);
  $('demo-call-start').addEventListener('click', () => call('demo_call', { active: true }));
  $('demo-call-end').addEventListener('click', () => call('demo_call', { active: false }));
  for (const button of document.querySelectorAll('[data-swyx]')) {
    button.addEventListener('click', () => call('demo_set_swyx', { status: button.dataset.swyx }));
  }
  for (const button of document.querySelectorAll('[data-fault]')) {
    button.addEventListener('click', () => call('demo_fault', { fault: button.dataset.fault }));
  }
  $('demo-stop-core').addEventListener('click', () => call('demo_stop_core'));
  $('demo-tour').addEventListener('click', () => call('demo_start_tour'));
}

async function start() {
  const missing = missingKeys();
  if (missing.length > 0) {
    console.warn('incomplete translations', missing);
  }
  await loadCoreTexts();
  bindControls();
  bindSettings();
  await listen('state', (event) => render(event.payload));
  const initial = await call('get_state');
  if (initial?.mode.kind === 'demo') {
    await bindDemo();
  }
  if (initial) {
    render(initial);
  }
  document.body.dataset.ready = 'true';
}

start();
