// The window's strings in English and German, and the translation of the texts the app core
// sends (status labels, health reasons), which are English and double as keys.

const en = {
  appName: 'Presence Bridge',
  skipToControls: 'Skip to the controls',
  demoBadge: 'Demo',
  modeDemo: 'Simulated Teams and SwyxIt!',
  modeTenant: 'Tenant: {tenant}',
  modeNotConfigured: 'Not configured',
  configError: 'The configuration file {path} is invalid and was kept as {path}.bak: {error}. Presence Bridge runs without a tenant until it is fixed: correct the .bak file and rename it to {path}, or delete it to start in demo mode, then restart.',
  trayHint: 'No tray area found on this desktop. This window stays available; closing it hides it, and sync goes on.',
  quit: 'Quit',
  stopped: 'Presence Bridge has stopped syncing. Restart the app.',
  restart: 'Restart now',
  pairHeading: 'Current status',
  lastSyncs: 'Last sync per direction',
  notices: 'Notices',
  unknown: 'Unknown',
  notRead: 'Not read yet',
  pollBound: 'Changes show up within {seconds} s (check interval)',
  pollBoundSlowed: 'Changes show up within {seconds} s: Microsoft Graph throttled requests, so the app checks less often for a while',
  swyxTarget: 'Teams asks for: {target}',
  swyxTargetCall: 'During the call Swyx stays on Speaking',
  swyxTargetSubstitute: 'Teams asks for: {target}, as set for Teams calls and presentations',
  lastSync: '{direction}: {time}, {latency}',
  lastSyncNone: '{direction}: no sync yet',
  teamsToSwyx: 'Teams → Swyx',
  swyxToTeams: 'Swyx → Teams (calls)',
  healthOk: 'Connected',
  healthSignedOut: 'Not signed in',
  healthDegraded: '{reason}; retrying automatically',
  healthDegradedAt: '{reason}; next retry at {time}',
  healthUnavailable: '{reason}. {action}',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signInWithCode: 'Sign in with a code',
  deviceCodeText: 'On any device, open {uri} and enter this code before {time}:',
  cancelSignIn: 'Cancel',
  signOut: 'Sign out',
  retry: 'Retry',
  conflictText: 'Another sync writes different statuses to your Swyx account (for example SwyxWare\'s own Teams sync with another mapping). Teams → Swyx is stopped until you decide.',
  resolveConflict: 'Resume Teams → Swyx',
  sharedWriter: 'Another sync also sets your Swyx status (SwyxWare\'s server-side Teams sync or this app on another computer). Both write the same status, so nothing needs to change.',
  identityMismatch: 'The SwyxIt! session ({email}) and the Teams account ({upn}) look like different people. Sync still runs; check that both belong to you.',
  notPersisted: 'Sign-in will not survive a restart: {reason}',
  signInErrorCode: 'Sign-in failed ({code}): {message}',
  signInError: 'Sign-in failed: {message}',
  syncHeading: 'Sync',
  syncSwitch: 'Sync',
  pauseLabel: 'Pause:',
  pause15: '15 min',
  pause60: '1 hour',
  pauseTomorrow: 'Until tomorrow',
  resume: 'Resume',
  pausedUntil: 'Paused until {time}',
  paused: 'Paused',
  accountsHeading: 'Accounts',
  teamsAccount: 'Teams account',
  upn: 'Account',
  displayName: 'Name',
  swyxSession: 'SwyxIt! session',
  email: 'E-mail',
  swyxUser: 'User',
  swyxServer: 'Server',
  none: '—',
  busyOnBusy: 'Teams\' Busy-on-Busy does not react to the call status this app sets: Microsoft triggers it only for calls in Teams itself (a known limitation).',
  historyHeading: 'Last syncs',
  historyEmpty: 'No sync yet.',
  historyTime: 'Time',
  historyDirection: 'Direction',
  historyChange: 'From → to',
  historyLatency: 'Latency',
  settingsHeading: 'Settings',
  pollInterval: 'Teams check interval (seconds)',
  pollIntervalInvalid: 'Enter a number of seconds from {min} to {max} in steps of {step}.',
  speakingSubstitute: 'While Teams shows a call or a presentation, show in Swyx',
  swyxAway: 'Away',
  swyxDnd: 'Do not disturb',
  dndSetsDnd: 'Teams Do not disturb sets Swyx Do not disturb',
  awaySetsAway: 'Teams Away sets Swyx Away',
  dndRoutingNote: 'Swyx Do not disturb may change how your calls are routed, depending on your call forwarding rules.',
  save: 'Save',
  saved: 'Settings saved',
  notSavedInvalid: 'Not saved. {field}: {message}',
  notSaved: 'Not saved: {message}',
  language: 'Language',
  languageSystem: 'System',
  startAtLogin: 'Start at login',
  managed: 'Managed by your organization',
  diagnosticsHeading: 'Diagnostics',
  ownSession: 'Call status set in Teams',
  throttles: 'Throttled Graph requests',
  notificationsSent: 'Notifications sent to the desktop',
  logFolder: 'Log files',
  diagnosticsHint: 'Copies the app version, settings, health and the newest log lines for a support request, without your accounts, statuses or sign-in data.',
  copyDiagnostics: 'Copy diagnostics',
  diagnosticsText: 'Diagnostics text',
  diagnosticsCopied: 'Copied to the clipboard.',
  diagnosticsNotCopied: 'Copying failed; the text is selected below, copy it with Ctrl+C.',
  yes: 'Yes',
  no: 'No',
  demoHeading: 'Demo',
  demoIntro: 'Teams and SwyxIt! are simulated inside the app. Change them here and watch the sync.',
  demoTeams: 'Set the Teams status',
  demoSwyx: 'SwyxIt!',
  demoCallStart: 'Start a call',
  demoCallEnd: 'End the call',
  demoSwyxAvailable: 'Set Available',
  demoSwyxAway: 'Set Away',
  demoSwyxDnd: 'Set Do not disturb',
  demoFaults: 'Faults',
  faultGraphOutage: 'Graph outage (503)',
  faultGraphThrottle: 'Graph throttling (429)',
  faultSwyxQuit: 'Quit SwyxIt!',
  faultSwyxRestart: 'Restart SwyxIt!',
  faultGraphMalformed: 'Unreadable Graph answer',
  faultGraphReadForbidden: 'Graph refuses the read (403)',
  faultGraphWriteOutage: 'Graph write outage (503)',
  faultGraphWriteForbidden: 'Graph refuses the write (403)',
  faultGraphWriteRejected: 'Graph rejects the write (400)',
  faultSignInExpired: 'Sign-in expires',
  faultSwyxLogOff: 'Log off in SwyxIt!',
  faultSwyxLogOn: 'Log on in SwyxIt!',
  faultSwyxServerDown: 'SwyxWare server down',
  faultSwyxServerUp: 'SwyxWare server back',
  faultSwyxAccessDenied: 'SwyxIt! denies access',
  faultSwyxWriteFailure: 'SwyxIt! rejects writes',
  faultSwyxOtherUser: 'SwyxIt! as another user',
  faultCoreStops: 'App core fails',
  demoTour: 'Start tour',
  demoTourRunning: 'Tour running…',
  errorStopped: 'Presence Bridge has stopped syncing.',
  errorManaged: 'Your organization manages this setting.',
  errorUnsupported: 'Sign-in with a code is not available in this version yet.',
  errorGeneric: 'That did not work: {message}',
};

const de = {
  appName: 'Presence Bridge',
  skipToControls: 'Zu den Bedienelementen springen',
  demoBadge: 'Demo',
  modeDemo: 'Teams und SwyxIt! simuliert',
  modeTenant: 'Mandant: {tenant}',
  modeNotConfigured: 'Nicht eingerichtet',
  configError: 'Die Konfigurationsdatei {path} ist ungültig und wurde als {path}.bak aufbewahrt: {error}. Presence Bridge läuft ohne Mandant, bis sie korrigiert ist: Berichtigen Sie die .bak-Datei und benennen Sie sie in {path} um, oder löschen Sie sie für den Demo-Modus, und starten Sie dann neu.',
  trayHint: 'Auf diesem Desktop gibt es keinen Infobereich. Dieses Fenster bleibt erreichbar; Schließen blendet es aus, der Abgleich läuft weiter.',
  quit: 'Beenden',
  stopped: 'Presence Bridge gleicht nicht mehr ab. Starten Sie die App neu.',
  restart: 'Jetzt neu starten',
  pairHeading: 'Aktueller Status',
  lastSyncs: 'Letzter Abgleich je Richtung',
  notices: 'Hinweise',
  unknown: 'Unbekannt',
  notRead: 'Noch nicht gelesen',
  pollBound: 'Änderungen erscheinen nach spätestens {seconds} s (Prüfintervall)',
  pollBoundSlowed: 'Änderungen erscheinen nach spätestens {seconds} s: Microsoft Graph hat Anfragen gedrosselt, daher prüft die App eine Zeit lang seltener',
  swyxTarget: 'Teams verlangt: {target}',
  swyxTargetCall: 'Während des Gesprächs bleibt Swyx auf „Im Gespräch“',
  swyxTargetSubstitute: 'Teams verlangt: {target}, wie für Anrufe und Präsentationen in Teams eingestellt',
  lastSync: '{direction}: {time}, {latency}',
  lastSyncNone: '{direction}: noch kein Abgleich',
  teamsToSwyx: 'Teams → Swyx',
  swyxToTeams: 'Swyx → Teams (Anrufe)',
  healthOk: 'Verbunden',
  healthSignedOut: 'Nicht angemeldet',
  healthDegraded: '{reason}; wird automatisch wiederholt',
  healthDegradedAt: '{reason}; nächster Versuch um {time}',
  healthUnavailable: '{reason}. {action}',
  signIn: 'Anmelden',
  signingIn: 'Anmeldung läuft…',
  signInWithCode: 'Mit Code anmelden',
  deviceCodeText: 'Öffnen Sie auf einem beliebigen Gerät {uri} und geben Sie vor {time} diesen Code ein:',
  cancelSignIn: 'Abbrechen',
  signOut: 'Abmelden',
  retry: 'Erneut versuchen',
  conflictText: 'Eine andere Synchronisation schreibt abweichende Status in Ihr Swyx-Konto (zum Beispiel der Teams-Abgleich von SwyxWare mit anderer Zuordnung). Teams → Swyx ist angehalten, bis Sie entscheiden.',
  resolveConflict: 'Teams → Swyx fortsetzen',
  sharedWriter: 'Eine andere Synchronisation setzt Ihren Swyx-Status ebenfalls (der serverseitige Teams-Abgleich von SwyxWare oder diese App auf einem anderen Computer). Beide schreiben denselben Status, es ist nichts zu tun.',
  identityMismatch: 'Die SwyxIt!-Sitzung ({email}) und das Teams-Konto ({upn}) scheinen verschiedenen Personen zu gehören. Der Abgleich läuft weiter; prüfen Sie, ob beide Ihnen gehören.',
  notPersisted: 'Die Anmeldung übersteht keinen Neustart: {reason}',
  signInErrorCode: 'Anmeldung fehlgeschlagen ({code}): {message}',
  signInError: 'Anmeldung fehlgeschlagen: {message}',
  syncHeading: 'Abgleich',
  syncSwitch: 'Abgleich',
  pauseLabel: 'Pausieren:',
  pause15: '15 Min.',
  pause60: '1 Stunde',
  pauseTomorrow: 'Bis morgen',
  resume: 'Fortsetzen',
  pausedUntil: 'Pausiert bis {time}',
  paused: 'Pausiert',
  accountsHeading: 'Konten',
  teamsAccount: 'Teams-Konto',
  upn: 'Konto',
  displayName: 'Name',
  swyxSession: 'SwyxIt!-Sitzung',
  email: 'E-Mail',
  swyxUser: 'Benutzer',
  swyxServer: 'Server',
  none: '—',
  busyOnBusy: '„Besetzt bei besetzt“ in Teams reagiert nicht auf den Anrufstatus, den diese App setzt: Microsoft löst es nur bei Anrufen in Teams selbst aus (eine bekannte Einschränkung).',
  historyHeading: 'Letzte Abgleiche',
  historyEmpty: 'Noch kein Abgleich.',
  historyTime: 'Zeit',
  historyDirection: 'Richtung',
  historyChange: 'Von → nach',
  historyLatency: 'Dauer',
  settingsHeading: 'Einstellungen',
  pollInterval: 'Prüfintervall für Teams (Sekunden)',
  pollIntervalInvalid: 'Geben Sie eine Sekundenzahl von {min} bis {max} in Schritten von {step} ein.',
  speakingSubstitute: 'Während Teams einen Anruf oder eine Präsentation zeigt, in Swyx zeigen',
  swyxAway: 'Abwesend',
  swyxDnd: 'Nicht stören',
  dndSetsDnd: 'Teams „Nicht stören“ setzt Swyx „Nicht stören“',
  awaySetsAway: 'Teams „Abwesend“ setzt Swyx „Abwesend“',
  dndRoutingNote: 'Swyx „Nicht stören“ kann je nach Ihren Umleitungsregeln ändern, wie Anrufe zugestellt werden.',
  save: 'Speichern',
  saved: 'Einstellungen gespeichert',
  notSavedInvalid: 'Nicht gespeichert. {field}: {message}',
  notSaved: 'Nicht gespeichert: {message}',
  language: 'Sprache',
  languageSystem: 'System',
  startAtLogin: 'Beim Anmelden starten',
  managed: 'Von Ihrer Organisation verwaltet',
  diagnosticsHeading: 'Diagnose',
  ownSession: 'Anrufstatus in Teams gesetzt',
  throttles: 'Gedrosselte Graph-Anfragen',
  notificationsSent: 'An den Desktop gesendete Benachrichtigungen',
  logFolder: 'Protokolldateien',
  diagnosticsHint: 'Kopiert App-Version, Einstellungen, Zustand und die neuesten Protokollzeilen für eine Supportanfrage, ohne Ihre Konten, Status und Anmeldedaten.',
  copyDiagnostics: 'Diagnose kopieren',
  diagnosticsText: 'Diagnosetext',
  diagnosticsCopied: 'In die Zwischenablage kopiert.',
  diagnosticsNotCopied: 'Kopieren fehlgeschlagen; der Text ist unten markiert, kopieren Sie ihn mit Strg+C.',
  yes: 'Ja',
  no: 'Nein',
  demoHeading: 'Demo',
  demoIntro: 'Teams und SwyxIt! werden in der App simuliert. Ändern Sie sie hier und beobachten Sie den Abgleich.',
  demoTeams: 'Teams-Status setzen',
  demoSwyx: 'SwyxIt!',
  demoCallStart: 'Anruf beginnen',
  demoCallEnd: 'Anruf beenden',
  demoSwyxAvailable: 'Verfügbar setzen',
  demoSwyxAway: 'Abwesend setzen',
  demoSwyxDnd: '„Nicht stören“ setzen',
  demoFaults: 'Störungen',
  faultGraphOutage: 'Graph-Ausfall (503)',
  faultGraphThrottle: 'Graph-Drosselung (429)',
  faultSwyxQuit: 'SwyxIt! beenden',
  faultSwyxRestart: 'SwyxIt! neu starten',
  faultGraphMalformed: 'Unlesbare Graph-Antwort',
  faultGraphReadForbidden: 'Graph verweigert das Lesen (403)',
  faultGraphWriteOutage: 'Graph-Ausfall beim Schreiben (503)',
  faultGraphWriteForbidden: 'Graph verweigert das Schreiben (403)',
  faultGraphWriteRejected: 'Graph lehnt das Schreiben ab (400)',
  faultSignInExpired: 'Anmeldung läuft ab',
  faultSwyxLogOff: 'In SwyxIt! abmelden',
  faultSwyxLogOn: 'In SwyxIt! anmelden',
  faultSwyxServerDown: 'SwyxWare-Server fällt aus',
  faultSwyxServerUp: 'SwyxWare-Server wieder da',
  faultSwyxAccessDenied: 'SwyxIt! verweigert den Zugriff',
  faultSwyxWriteFailure: 'SwyxIt! lehnt Änderungen ab',
  faultSwyxOtherUser: 'SwyxIt! als andere Person',
  faultCoreStops: 'App-Kern fällt aus',
  demoTour: 'Rundgang starten',
  demoTourRunning: 'Rundgang läuft…',
  errorStopped: 'Presence Bridge gleicht nicht mehr ab.',
  errorManaged: 'Ihre Organisation verwaltet diese Einstellung.',
  errorUnsupported: 'Die Anmeldung mit Code gibt es in dieser Version noch nicht.',
  errorGeneric: 'Das hat nicht geklappt: {message}',
};

// German for the English texts of the app core (status labels, history words, health
// reasons), loaded from core-de.json, which the tray's Rust code reads too. A text missing there
// is shown in English.
let coreDe = {};

/** Loads the German table of the app core's texts; call once before the first render. */
export async function loadCoreTexts() {
  try {
    const response = await fetch('./core-de.json');
    coreDe = await response.json();
  } catch (error) {
    console.error('core-de.json not loaded; core texts stay English', error);
  }
}

const tables = { en, de };
let current = 'en';

/** Sets the language of `t` and `core`: 'en' or 'de'. */
export function setLanguage(language) {
  current = tables[language] ? language : 'en';
  document.documentElement.lang = current;
}

/** The current language, 'en' or 'de'. */
export function language() {
  return current;
}

/** The string for `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = tables[current][key] ?? en[key];
  if (text === undefined) {
    console.warn(`missing translation key ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** A text of the app core in the current language, or as sent when no translation exists. */
export function core(text) {
  if (text == null || current === 'en') {
    return text;
  }
  if (coreDe[text]) {
    return coreDe[text];
  }
  const speaking = /^Speaking \(shown in Swyx as (.+)\)$/.exec(text);
  if (speaking) {
    return `Im Gespräch (in Swyx angezeigt als ${core(speaking[1])})`;
  }
  const override = /^Teams shows '(.+)' instead of 'In a call' — a status you chose in Teams takes precedence$/.exec(text);
  if (override) {
    return `Teams zeigt „${core(override[1])}“ statt „Im Anruf“ – ein in Teams gewählter Status hat Vorrang`;
  }
  // A health reason with its cause, "<reason>: <cause>": both parts are translated on their own.
  const separator = text.indexOf(': ');
  if (separator > 0 && coreDe[text.slice(0, separator)]) {
    return `${coreDe[text.slice(0, separator)]}: ${core(text.slice(separator + 2))}`;
  }
  return text;
}

/** Fills every element with `data-i18n` (text) or `data-i18n-aria-label` (label). */
export function translatePage(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll('[data-i18n-aria-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
  }
}

/** Keys present in one table but not the other; empty when both are complete. */
export function missingKeys() {
  const missing = [];
  for (const key of Object.keys(en)) {
    if (!(key in de)) missing.push(`de.${key}`);
  }
  for (const key of Object.keys(de)) {
    if (!(key in en)) missing.push(`en.${key}`);
  }
  return missing;
}
