#!/usr/bin/env python3
"""Walk the real window through every row of docs/states.md, in English and German.

Run it through `scripts/webdriver.sh <binary>`. The test parses the table of states from the
file given with --states, starts the app in demo mode, and drives the Graph twin and the SwyxIt!
simulator with the demo panel's buttons until the window shows each row. For each row it checks
the exact text and button in English, switches to German, checks them again and switches back.
It fails when a row's text or button differs, when a step visits a row the table does not list,
and when a row of the table was not visited.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

from webdriver_test import Session, WebDriverError, check_pair

ROW_WAIT_SECONDS = 40
NO_BUTTON = "—"


def parse_states(path):
    """Return the rows of the table under '## States' as dicts keyed by the header names."""
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()
    start = lines.index("## States")
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, rows = table[0], table[2:]
    expected_header = ["Id", "Where", "English", "German", "Button", "Reached by"]
    assert header == expected_header, f"the table header is {header}, expected {expected_header}"
    parsed = [dict(zip(header, cells)) for cells in rows]
    for row in parsed:
        assert len(row) == len(header), f"row {row} does not have {len(header)} cells"
    ids = [row["Id"] for row in parsed]
    duplicates = sorted({row_id for row_id in ids if ids.count(row_id) > 1})
    assert not duplicates, f"rows listed twice: {duplicates}"
    return {row["Id"]: row for row in parsed}


def text_pattern(text):
    """A regular expression for a table text whose {placeholders} match any non-empty text."""
    parts = re.split(r"\{\w+\}", text)
    return re.compile(".+?".join(re.escape(part) for part in parts) + r"\Z", re.DOTALL)


def repeated_words(expected, shown):
    """Return a fixed part of the table text that the shown text contains twice, or None.

    A placeholder value that brings its own copy of the sentence around it repeats a part."""
    for part in re.split(r"\{\w+\}", expected):
        part = part.strip(" :.;()").lower()
        if len(part) >= 12 and shown.lower().count(part) > 1:
            return part
    return None


def button_texts(cell):
    """The English and German button texts of a 'Button' cell, or (None, None) for none."""
    if cell == NO_BUTTON:
        return None, None
    english, german = (part.strip() for part in cell.split(" / "))
    return english, german


# Where each kind of row is shown: the element with the text and the button, if the kind has one.
HEALTH_TARGETS = {
    "teams": ("#teams-health-text", "#teams-health-action"),
    "swyx": ("#swyx-health-text", None),
}
NOTICE_TARGETS = {
    "override": ("#override", None),
    "conflict": ("#conflict p", "#resolve-conflict"),
    "shared-writer": ("#shared-writer", None),
    "identity-mismatch": ("#identity-mismatch", None),
    "busy-on-busy": ("#busy-on-busy", None),
    "tray-hint": ("#tray-hint", None),
    "config-invalid": ("#config-error", None),
    "poll-slowed": ("#teams-bound", None),
    "tooltip-paused": ("#tray-state", None),
    "tooltip-not-read": ("#tray-state", None),
    "tooltip-swyx-gone": ("#tray-state", None),
    "teams-last-known": ("#teams-status", None),
    "sign-in-unreachable": ("#sign-in-error-text", "#sign-in-retry"),
    "sign-in-failed": ("#sign-in-error-text", "#sign-in-retry"),
    "sign-in-memory-only": ("#not-persisted", None),
    "core-stopped": ("#stopped p", "#restart"),
}


def targets(row_id):
    """The text element and the button element (or None) of a row."""
    if row_id.startswith("tray-") and row_id != "tray-hint":
        return "#tray-state", None
    if row_id in NOTICE_TARGETS:
        return NOTICE_TARGETS[row_id]
    side = row_id.split("-")[0]
    if side in HEALTH_TARGETS:
        return HEALTH_TARGETS[side]
    return NOTICE_TARGETS[row_id]


SHOWN = """
const element = document.querySelector(arguments[0]);
if (!element) { return null; }
const visible = (node) => !node.closest('[hidden]');
const text = arguments[0] === '#tray-state' ? element.title : element.textContent.trim();
return {text, visible: visible(element), lang: document.documentElement.lang,
        tone: document.body.dataset.tone, badge: document.body.dataset.badge};
"""

BUTTONS = """
return [...document.querySelectorAll(arguments[0])]
  .filter((node) => !node.closest('[hidden]'))
  .map((node) => node.id + '=' + node.textContent.trim());
"""


class Walk:
    """The walk through the table: checks rows and remembers which were visited."""

    def __init__(self, session, rows):
        self.session = session
        self.rows = rows
        self.visited = []

    def shown(self, row_id):
        text_selector, _ = targets(row_id)
        return self.session.run(SHOWN, text_selector)

    def matches(self, row_id, language):
        row = self.rows[row_id]
        expected = row["English"] if language == "en" else row["German"]
        shown = self.shown(row_id)
        if not shown or shown["lang"] != language or not shown["visible"]:
            return False, shown
        if not text_pattern(expected).match(shown["text"]):
            return False, shown
        repeated = repeated_words(expected, shown["text"])
        assert not repeated, f"row {row_id}: a placeholder repeats {repeated!r}: {shown['text']!r}"
        if row_id.startswith("tray-") and row_id != "tray-hint":
            _, tone, badge = row_id.split("-")
            tone = {"dnd": "do-not-disturb"}.get(tone, tone)
            if (shown["tone"], shown["badge"]) != (tone, badge):
                return False, shown
        english_button, german_button = button_texts(row["Button"])
        button = english_button if language == "en" else german_button
        _, button_selector = targets(row_id)
        if button_selector is None:
            assert button is None, f"row {row_id} lists a button, but its part of the window has none"
            return True, shown
        # Only this part's own button counts: while a Swyx row is checked, the Teams side may
        # show its Sign in action, and that is no part of the Swyx row.
        own = self.session.run(BUTTONS, button_selector)
        wanted = [] if button is None else [f"{button_selector.lstrip('#')}={button}"]
        if own != wanted:
            return False, {**shown, "buttons": own}
        return True, shown

    def check(self, *row_ids):
        """Wait until the window shows each row in English, then in German; mark them visited."""
        for row_id in row_ids:
            if row_id not in self.rows:
                raise AssertionError(f"the walk reached {row_id!r}, which docs/states.md does not list")
        for language in ("en", "de"):
            set_language(self.session, language)
            for row_id in row_ids:
                self.wait_row(row_id, language)
        set_language(self.session, "en")
        for row_id in row_ids:
            if row_id not in self.visited:
                self.visited.append(row_id)
            print(f"row {row_id}: {self.shown(row_id)['text']!r}", flush=True)

    def wait_row(self, row_id, language):
        deadline = time.monotonic() + ROW_WAIT_SECONDS
        last = None
        while time.monotonic() < deadline:
            ok, last = self.matches(row_id, language)
            if ok:
                return
            time.sleep(0.1)
        row = self.rows[row_id]
        expected = row["English"] if language == "en" else row["German"]
        raise AssertionError(
            f"row {row_id} ({language}): expected {expected!r} with button {row['Button']!r}, "
            f"the window shows {last!r}"
        )


def set_language(session, language):
    session.run(
        "const select = document.getElementById('language');"
        "select.value = arguments[0]; select.dispatchEvent(new Event('change'));",
        language,
    )
    session.wait(f"the page in {language}", lambda: session.run("return document.documentElement.lang") == language)


def fault(session, name):
    session.click(f"[data-fault='{name}']")


def teams_row(session, label):
    """Press the demo row with this (English) label; the page must be in English."""
    index = session.run(
        "return [...document.querySelectorAll('#demo-rows button')].findIndex((b) => b.textContent === arguments[0])",
        label,
    )
    assert index >= 0, f"no demo row {label!r}"
    session.click(f"#demo-rows button[data-row='{index}']")
    session.wait_text("#teams-status", label)


def set_switch(session, selector, on):
    if session.run("return document.querySelector(arguments[0]).checked", selector) != on:
        session.click(selector)
    session.wait(f"{selector} {'on' if on else 'off'}", lambda: session.run("return document.querySelector(arguments[0]).checked", selector) == on)


def wait_healthy(session):
    """Wait until both sides report Connected again, so the next fault starts from a clean state."""
    wait_long(
        session,
        "both sides connected",
        lambda: session.text("#teams-health-text") == "Connected" and session.text("#swyx-health-text") == "Connected",
    )


def wait_long(session, description, condition):
    """Like Session.wait, but as long as a row may take: retries back off for several seconds."""
    deadline = time.monotonic() + ROW_WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {ROW_WAIT_SECONDS} s waiting for {description}"
        time.sleep(0.2)


def walk_start(walk):
    walk.check("teams-ok", "swyx-ok", "busy-on-busy", "tray-hint")


def walk_tray(walk):
    session = walk.session
    for label, tone in [("Available", "available"), ("Busy", "busy"), ("Do not disturb", "dnd"), ("Away", "away"), ("Offline", "offline")]:
        teams_row(session, label)
        walk.check(f"tray-{tone}-none")
        set_switch(session, "#sync-switch", False)
        walk.check(f"tray-{tone}-paused")
        set_switch(session, "#sync-switch", True)
        if tone == "available":
            session.click("[data-pause='15']")
            walk.check("tooltip-paused")
            session.click("#resume")
            walk.check(f"tray-{tone}-none")
        fault(session, "swyx-log-off")
        walk.check(f"tray-{tone}-action", "swyx-logged-off")
        fault(session, "swyx-log-on")
        wait_healthy(session)
    teams_row(session, "Available")


def walk_swyx(walk):
    session = walk.session
    fault(session, "swyx-quit")
    walk.check("swyx-shutting-down")
    walk.check("swyx-not-running", "tooltip-swyx-gone")
    fault(session, "swyx-restart")
    wait_healthy(session)
    fault(session, "swyx-server-down")
    walk.check("swyx-server-down")
    fault(session, "swyx-server-up")
    wait_healthy(session)
    fault(session, "swyx-access-denied")
    walk.check("swyx-access-denied")
    fault(session, "swyx-restart")
    wait_healthy(session)
    fault(session, "swyx-write-failure")
    teams_row(session, "Do not disturb")
    walk.check("swyx-write-failed")
    wait_healthy(session)
    session.wait_text("#swyx-status", "Do not disturb")


def walk_override(walk):
    session = walk.session
    teams_row(session, "Do not disturb")
    session.click("#demo-call-start")
    walk.check("override")
    session.click("#demo-call-end")
    session.wait("the override to go", lambda: not walk.shown("override")["visible"])


def walk_conflict(walk):
    """A Swyx change that the app did not write replaces its write, until the third time.

    Foreign Swyx changes of earlier steps count too, because the detection looks back 30
    minutes, so the warning may come before the third round.
    """
    session = walk.session
    for label, swyx in [("Away", "Available"), ("Do not disturb", "Available"), ("Away", "DoNotDisturb")]:
        if walk.shown("conflict")["visible"]:
            break
        teams_row(session, label)
        session.wait_text("#swyx-status", label)
        session.click(f"[data-swyx='{swyx}']")
        session.wait("the foreign Swyx change", lambda: session.text("#swyx-status") != label)
    walk.check("conflict")
    # Resolving also forgets the earlier detections, so the next step starts from none.
    session.click("#resolve-conflict")
    session.wait("the conflict to go", lambda: not walk.shown("conflict")["visible"])


def walk_shared_writer(walk):
    """Three times Swyx already shows the new target when the app is about to write it.

    Teams → Swyx is off while Teams and Swyx change, so that the app sees both changes before
    it decides; switching it on lets the app find its target already set.
    """
    session = walk.session
    rounds = [("Available", "Available"), ("Do not disturb", "DoNotDisturb"), ("Away", "Away")] * 2
    for label, swyx in rounds:
        if walk.shown("shared-writer")["visible"]:
            break
        set_switch(session, "#t2s-switch", False)
        teams_row(session, label)
        session.click(f"[data-swyx='{swyx}']")
        session.wait_text("#swyx-status", label)
        set_switch(session, "#t2s-switch", True)
        # The app decides about the write on its next input, at the latest on its next timer tick;
        # nothing in the window shows a write that was skipped, so the round waits a moment
        # before the next one switches Teams → Swyx off again. A round that came too early only
        # costs one more round.
        time.sleep(1.0)
    walk.check("shared-writer")


def walk_identity(walk):
    session = walk.session
    fault(session, "swyx-other-user")
    walk.check("identity-mismatch")
    fault(session, "swyx-restart")
    session.wait("the mismatch to go", lambda: not walk.shown("identity-mismatch")["visible"])
    wait_healthy(session)


def walk_teams_reads(walk):
    session = walk.session
    for name, row_id in [("graph-outage", "teams-poll-failed"), ("graph-malformed", "teams-poll-malformed"), ("graph-read-forbidden", "teams-read-refused")]:
        wait_healthy(session)
        fault(session, name)
        walk.check(row_id)
    wait_healthy(session)


def sign_in_by_action(walk):
    """Press the Teams health's Sign in button, the action of the row, and wait for Connected."""
    walk.session.click("#teams-health-action")
    wait_healthy(walk.session)


def walk_teams_writes(walk):
    session = walk.session
    teams_row(session, "Available")
    for name, row_id, needs_sign_in in [
        ("graph-write-outage", "teams-write-failed", False),
        ("graph-write-forbidden", "teams-write-forbidden", True),
        ("graph-write-rejected", "teams-write-rejected", True),
    ]:
        wait_healthy(session)
        fault(session, name)
        session.click("#demo-call-start")
        walk.check(row_id)
        session.click("#demo-call-end")
        session.wait("the call to end", lambda: not session.text("#swyx-status").startswith("Speaking"))
        if needs_sign_in:
            sign_in_by_action(walk)
    wait_healthy(session)


def walk_sign_in(walk):
    session = walk.session
    session.click("#sign-out")
    walk.check("teams-signed-out")
    sign_in_by_action(walk)
    fault(session, "sign-in-expired")
    walk.check("teams-sign-in-expired", "teams-last-known")
    # The accounts card must agree with the health: no account, "Sign in" instead of "Sign out".
    session.wait("the accounts card signed out", lambda: session.run(
        "return !document.getElementById('sign-out').closest('[hidden]')"
        " ? 'sign-out shown' : document.getElementById('sign-in').closest('[hidden]') ? 'sign-in hidden' : 'ok'"
    ) == "ok")
    sign_in_by_action(walk)


def walk_throttle(walk):
    # Last among the Graph faults: throttling slows the polls down for a while afterwards.
    wait_healthy(walk.session)
    fault(walk.session, "graph-throttle")
    walk.check("teams-throttled")
    # Once reads work again, the check interval stays longer for a while.
    wait_healthy(walk.session)
    walk.check("poll-slowed")


def log_text():
    """The app's log files, joined."""
    folder = os.path.join(os.environ["PRESENCE_BRIDGE_HOME"], "state", "logs")
    text = ""
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as file:
            text += file.read()
    return text


def app_pids(binary):
    """The process ids of the app binary, however it was started."""
    found = subprocess.run(["pgrep", "-f", "-x", f"{binary}( .*)?"], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


def walk_stopped(walk):
    """Last step of the demo walk: the core fails, and "Restart now" starts the app again."""
    session = walk.session
    session.click("#demo-stop-core")
    walk.check("core-stopped")
    disabled = session.run("return document.getElementById('sync-switch').disabled")
    assert disabled is True, "the sync switch still takes clicks after the core stopped"
    health = session.text("#teams-health-text")
    assert health == "Presence Bridge has stopped syncing.", f"the Teams health still reads {health!r}"
    assert "the app core was stopped abruptly" in log_text(), "the stopped core is not in the app log"
    before = app_pids(session.binary)
    starts = log_text().count("presence bridge starting")
    session.click("#restart")
    wait_long(session, "the app to start again",
              lambda: log_text().count("presence bridge starting") > starts and app_pids(session.binary) - before)
    wait_long(session, "the stopped app to exit", lambda: not (app_pids(session.binary) & before))
    print(f"restarted: process {sorted(before)} exited, {sorted(app_pids(session.binary))} runs", flush=True)


STEPS = [
    walk_start,
    walk_tray,
    walk_swyx,
    walk_override,
    walk_conflict,
    walk_shared_writer,
    walk_identity,
    walk_teams_reads,
    walk_teams_writes,
    walk_sign_in,
    walk_throttle,
    walk_stopped,
]


def check_health_logged():
    """Check that the Graph faults of the walk reached the app's log, not only the window."""
    text = log_text()
    for expected in ("Teams side unhealthy", "Microsoft Graph is throttling requests", "Teams side healthy"):
        assert expected in text, f"the app log has no {expected!r} after the Graph faults"
    print("the Teams health changes of the walk are in the app log")


def walk_invalid_config(options, demo_walk):
    """Start the app once more, without --demo, on an invalid config.toml: the banner names it."""
    config = os.path.join(os.environ["PRESENCE_BRIDGE_HOME"], "config", "config.toml")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w", encoding="utf-8") as file:
        file.write("[tenant\nclient_id = 1\n")
    session = Session(options.port, os.path.abspath(options.binary), [])
    walk = Walk(session, demo_walk.rows)
    try:
        walk.check("config-invalid")
    except (AssertionError, WebDriverError):
        session.screenshot(os.path.join(options.screenshots, "states-failure.png"), anchor="#notices")
        raise
    finally:
        session.close()
    assert os.path.exists(config + ".bak"), "the invalid file was not kept as config.toml.bak"
    assert not os.path.exists(config), "the invalid file was left in place"
    # The next start finds only the .bak file. It must show the banner again, not demo mode.
    session = Session(options.port, os.path.abspath(options.binary), [])
    try:
        again = Walk(session, demo_walk.rows)
        again.wait_row("config-invalid", "en")
        badge_hidden = session.run("return document.getElementById('demo-badge').hidden")
        assert badge_hidden, "the second start shows the Demo badge"
    finally:
        session.close()
    os.remove(config + ".bak")
    demo_walk.visited.extend(row_id for row_id in walk.visited if row_id not in demo_walk.visited)


class GraphTwin:
    """The Graph twin as its own process on loopback, for starts with a tenant."""

    def __init__(self, binary):
        self.process = subprocess.Popen(
            [binary, "--port", "0"], stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )
        self.base = self.process.stdout.readline().strip().rstrip("/")
        assert self.base.startswith("http://127.0.0.1:"), f"the twin printed {self.base!r}"
        line = self.process.stdout.readline().strip()
        assert line.startswith("client id "), f"the twin printed {line!r}, expected its client id"
        self.client_id = line.removeprefix("client id ")

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/_twin/{path}", data=data, method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def walk_tenant(options, demo_walk):
    """Start the app without --demo against the twin: a failed sign-in, then one kept in memory.

    The test's D-Bus session has no Secret Service, so the sign-in cannot be stored; the
    stand-in browser on PATH (scripts/webdriver.sh) follows the sign-in page's redirects.
    """
    twin = GraphTwin(options.twin)
    config = os.path.join(os.environ["PRESENCE_BRIDGE_HOME"], "config", "config.toml")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w", encoding="utf-8") as file:
        file.write(
            f'[tenant]\ntenant = "organizations"\nclient_id = "{twin.client_id}"\n'
            f'authority_host = "{twin.base}/"\ngraph_base = "{twin.base}/v1.0/"\n'
        )
    session = None
    try:
        # Entra's token endpoint returns 503 once, so the code from the browser is not redeemed.
        twin.admin("POST", "faults", {"endpoint": "token", "kind": "status", "status": 503, "count": 1})
        session = Session(options.port, os.path.abspath(options.binary), [])
        walk = Walk(session, demo_walk.rows)
        # The button is disabled while the app looks for a stored sign-in at start.
        session.wait_text("#teams-health-text", "Not signed in")
        session.wait("Sign in enabled", lambda: session.run("return !document.getElementById('sign-in').disabled"))
        walk.check("tooltip-not-read")
        session.click("#sign-in")
        walk.check("sign-in-unreachable")
        # Conditional Access blocks the sign-in: Entra redirects back with AADSTS53003.
        twin.admin("POST", "sign-in", {"error": 53003})
        session.click("#sign-in-retry")
        walk.check("sign-in-failed")
        twin.admin("POST", "sign-in", "autoConsent")
        session.click("#sign-in-retry")
        walk.check("sign-in-memory-only")
        session.wait_text("#teams-health-text", "Connected")
    except (AssertionError, WebDriverError):
        if session:
            session.screenshot(os.path.join(options.screenshots, "states-failure.png"), anchor="#accounts-heading")
        raise
    finally:
        if session:
            session.close()
        twin.close()
        os.remove(config)
    demo_walk.visited.extend(row_id for row_id in walk.visited if row_id not in demo_walk.visited)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="WebKitWebDriver port on 127.0.0.1")
    parser.add_argument("--binary", required=True, help="path to the presence-bridge binary")
    parser.add_argument("--states", required=True, help="path to docs/states.md")
    parser.add_argument("--screenshots", required=True, help="folder for the PNG screenshots")
    parser.add_argument("--twin", required=True, help="path to the graph-twin binary")
    options = parser.parse_args()
    rows = parse_states(options.states)
    print(f"states: {len(rows)} rows in {options.states}")

    started = time.monotonic()
    # The real path: a restarted app names itself by it, and Session.close finds it by name.
    session = Session(options.port, os.path.realpath(options.binary), ["--demo"])
    walk = Walk(session, rows)
    try:
        session.command("POST", "/window/rect", {"width": 780, "height": 980})
        check_pair(session)
        for step in STEPS:
            step_started = time.monotonic()
            step(walk)
            print(f"step {step.__name__}: {time.monotonic() - step_started:.1f} s", flush=True)
    except (AssertionError, WebDriverError):
        shot = os.path.join(options.screenshots, "states-failure.png")
        session.screenshot(shot, anchor="#notices")
        raise
    finally:
        session.close()
    check_health_logged()
    walk_invalid_config(options, walk)
    walk_tenant(options, walk)
    missing = [row_id for row_id in rows if row_id not in walk.visited]
    print(f"states: {len(walk.visited)} of {len(rows)} rows visited in {time.monotonic() - started:.1f} s")
    assert not missing, f"rows of docs/states.md the walk did not reach: {missing}"
    print("states test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
