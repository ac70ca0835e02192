#!/usr/bin/env python3
"""Drive the real Presence Bridge window through WebKitWebDriver, with only the standard library.

Run it through `scripts/webdriver.sh <binary>`, which provides the virtual X server, the private
D-Bus session and the WebKitWebDriver process. The test starts the app in demo mode and reads
the status pair. It flips the sync switch by mouse and by keyboard, signs out and in, switches
to German and back (the tray menu, read over D-Bus, must follow), saves the settings with an
invalid and a valid check interval in both languages, sets several Teams statuses and a call from
the demo panel, and copies the diagnostics. After each step it checks that the window follows,
and it saves screenshots to the folder given with --screenshots.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
import tray_menu  # noqa: E402  (scripts/tray_menu.py: reads the dbusmenu through busctl)

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
WAIT_SECONDS = 20


class WebDriverError(Exception):
    """A WebDriver request failed."""


class Session:
    """One W3C WebDriver session against a WebKitWebDriver on loopback."""

    def __init__(self, port, binary, args):
        self.base = f"http://127.0.0.1:{port}"
        self.binary = binary
        capabilities = {
            "capabilities": {
                "alwaysMatch": {
                    "webkitgtk:browserOptions": {"binary": binary, "args": args},
                }
            }
        }
        value = self.request("POST", "/session", capabilities)
        self.id = value["sessionId"]

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise WebDriverError(f"{method} {path} failed with {error.code}: {detail}") from error

    def command(self, method, path, body=None):
        return self.request(method, f"/session/{self.id}{path}", body)

    def find(self, selector):
        value = self.command("POST", "/element", {"using": "css selector", "value": selector})
        return value[ELEMENT_KEY]

    def click(self, selector):
        self.command("POST", f"/element/{self.find(selector)}/click", {})

    def run(self, script, *args):
        return self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def text(self, selector):
        return self.run("return document.querySelector(arguments[0])?.textContent ?? null", selector)

    def wait(self, description, condition):
        """Poll `condition` until it returns a true value; fail after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        last = None
        while time.monotonic() < deadline:
            last = condition()
            if last:
                return last
            time.sleep(0.2)
        raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {description} (last: {last!r})")

    def wait_text(self, selector, expected):
        self.wait(f"{selector} to read {expected!r}", lambda: self.text(selector) == expected)

    def screenshot(self, path, anchor="h1"):
        """Save the visible part of the page, scrolled so that `anchor` is at the top, as a PNG."""
        self.run("document.activeElement?.blur(); document.querySelector(arguments[0]).scrollIntoView()", anchor)
        time.sleep(0.3)
        png = base64.b64decode(self.command("GET", "/screenshot"))
        with open(path, "wb") as file:
            file.write(png)
        print(f"screenshot: {path}")

    def close(self):
        """End the session, quit the app and wait until it has exited.

        WebKitWebDriver does not always end the app with the session, and a next start while
        the app still owns its single-instance name on D-Bus would hand its arguments over
        instead of starting. SIGTERM is the app's clean Quit. After the app restarted itself,
        the session has lost its app and may fail to end; the restarted app is stopped all the
        same."""
        try:
            self.request("DELETE", f"/session/{self.id}")
        except (WebDriverError, OSError) as error:
            print(f"session not ended cleanly: {error}", flush=True)
        pattern = f"{self.binary}( .*)?"
        subprocess.run(["pkill", "-TERM", "-f", "-x", pattern])
        deadline = time.monotonic() + 15
        while subprocess.run(["pgrep", "-f", "-x", pattern], stdout=subprocess.DEVNULL).returncode == 0:
            assert time.monotonic() < deadline, f"{self.binary} still runs 15 s after SIGTERM"
            time.sleep(0.1)


def state(session):
    """The last state the window rendered, read from its DOM."""
    return session.run(
        "return {teams: document.getElementById('teams-status').textContent,"
        " swyx: document.getElementById('swyx-status').textContent,"
        " sync: document.getElementById('sync-switch').checked,"
        " badge: document.body.dataset.badge,"
        " lang: document.documentElement.lang,"
        " history: [...document.querySelectorAll('#history-rows tr')].map(r => r.textContent)}"
    )


def check_pair(session):
    session.wait("the window to be ready", lambda: session.run("return document.body.dataset.ready === 'true'"))
    session.wait("a Teams status", lambda: state(session)["teams"] not in ("", "Not read yet"))
    session.wait("a Swyx status", lambda: state(session)["swyx"] not in ("", "Not read yet"))
    pair = state(session)
    print(f"pair: Teams {pair['teams']!r}, Swyx {pair['swyx']!r}")


def check_sync_switch(session):
    assert state(session)["sync"], "sync starts switched on"
    session.click("#sync-switch")
    session.wait("sync off and the paused badge", lambda: not state(session)["sync"] and state(session)["badge"] == "paused")
    session.click("#sync-switch")
    session.wait("sync back on", lambda: state(session)["sync"] and state(session)["badge"] != "paused")
    print("sync switch: off and on again")


def check_keyboard(session):
    """The sync switch works by keyboard: Space toggles the focused switch."""
    switch = session.find("#sync-switch")
    space = "\ue00d"
    session.command("POST", f"/element/{switch}/value", {"text": space})
    session.wait("sync off by keyboard", lambda: not state(session)["sync"])
    focused = session.run("return document.activeElement?.id")
    assert focused == "sync-switch", f"focus is on {focused!r}, expected the sync switch"
    session.command("POST", f"/element/{switch}/value", {"text": space})
    session.wait("sync on by keyboard", lambda: state(session)["sync"])
    print("keyboard: Space toggles the focused sync switch")


def visible(session, selector):
    return session.run("return !document.querySelector(arguments[0]).closest('[hidden]')", selector)


def check_no_tray_hint(session):
    """The WebDriver session runs no tray host, so the window shows the hint and a Quit button."""
    session.wait("the no-tray hint", lambda: visible(session, "#tray-hint"))
    assert visible(session, "#quit"), "the window offers no Quit without a tray"
    print("no tray host: the window shows the hint and a Quit button")


def check_quit(session):
    """Quit in the window stops the app with code 0. The session ends with the app."""
    home = os.environ["PRESENCE_BRIDGE_HOME"]

    def stopped():
        # The log folder is somewhere below PRESENCE_BRIDGE_HOME.
        for folder, _, names in os.walk(home):
            for name in names:
                if not (name.startswith("presence-bridge.") and name.endswith(".log")):
                    continue
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as file:
                    log = file.read()
                if "quit from the window" in log and "presence bridge stopped code=0" in log:
                    return True
        return False

    try:
        session.click("#quit")
    except WebDriverError as error:
        # The app may exit before WebKitWebDriver answers the click; the log decides.
        print(f"quit: the click got no clean answer ({error})")
    session.wait("the app to stop after Quit", stopped)
    print("quit: the window's Quit button stopped the app with code 0")


def check_sign_out_and_in(session):
    """Sign out shows the Sign in action (and no error box); Sign in restores the account."""
    upn = session.wait("a signed-in account", lambda: (session.text("#upn") or "—") != "—" and session.text("#upn"))
    session.click("#sign-out")
    session.wait("the account to be gone", lambda: session.text("#upn") == "—")
    session.wait("the Sign in action", lambda: visible(session, "#teams-health-action"))
    assert not visible(session, "#sign-in-error"), "a sign-out is no sign-in failure"
    session.click("#sign-in")
    session.wait_text("#upn", upn)
    session.wait("the Sign in action to go", lambda: not visible(session, "#teams-health-action"))
    print("account: signed out and in again")


def check_sign_in_with_code(session, screenshots):
    """Sign in with a code shows the code and its page; the demo twin approves it after a few
    seconds, as a user on another device would, and the account returns."""
    upn = session.text("#upn")
    session.click("#sign-out")
    session.wait("the account to be gone", lambda: session.text("#upn") == "—")
    session.click("#sign-in-code")
    session.wait("the code panel", lambda: visible(session, "#device-code"))
    code = session.text("#device-code-value")
    assert code.strip(), "the panel shows a code"
    assert "127.0.0.1" in session.text("#device-code-text"), session.text("#device-code-text")
    session.screenshot(os.path.join(screenshots, "window-sign-in-code.png"), anchor="#device-code")
    session.wait_text("#upn", upn)
    session.wait("the code panel to go", lambda: not visible(session, "#device-code"))
    print(f"account: signed in again with the code {code!r}")


def select_language(session, language):
    session.click(f"#language option[value='{language}']")
    # A click on an option does not fire `change` reliably through the driver, so the script
    # sets the value and fires `change` itself. A second set_language call is harmless.
    session.run(
        "const select = document.getElementById('language');"
        "if (select.value !== arguments[0]) { select.value = arguments[0]; }"
        "select.dispatchEvent(new Event('change'));",
        language,
    )
    session.wait(f"the page in {language}", lambda: state(session)["lang"] == language)


def find_tray_menu(binary):
    """Return the bus name and object path of the app's dbusmenu.

    The app exports its tray menu on the session bus even without a tray host. Its process
    owns several connections, and only one of them carries the menu."""
    pids = subprocess.run(["pgrep", "-f", "-x", f"{binary}( .*)?"], capture_output=True,
                          text=True).stdout.split()
    names = json.loads(subprocess.run(["busctl", "--user", "--json=short", "list"],
                                      capture_output=True, text=True, check=True).stdout)
    for name in names:
        if str(name.get("pid")) not in pids or not name["name"].startswith(":"):
            continue
        # Some of the app's connections never respond to introspection, so each gets 2 s.
        tree = subprocess.run(["busctl", "--user", "--timeout=2", "tree", "--list", name["name"]],
                              capture_output=True, text=True).stdout.split()
        for path in tree:
            if path.startswith("/org/ayatana/NotificationItem/") and path.endswith("/Menu"):
                return name["name"], path
    return None


def tray_labels(menu):
    """The labels of every entry of the tray menu, submenus included."""
    bus, path = menu
    labels = (tray_menu.label_of(properties)
              for _, _, properties in tray_menu.items(tray_menu.layout(bus, path)))
    # The root and the separators have no label.
    return [label for label in labels if label]


def check_languages(session, screenshots):
    """The window and the tray menu, its Pause submenu's title included, follow the language."""
    menu = session.wait("the tray menu on D-Bus", lambda: find_tray_menu(session.binary))
    session.wait("the English tray menu", lambda: "Pause" in tray_labels(menu))
    select_language(session, "de")
    session.wait_text("#controls-heading", "Abgleich")
    session.wait_text("label.switch:first-child span", "Abgleich")
    session.wait("the German tray menu", lambda: "Beenden" in tray_labels(menu))
    german = tray_labels(menu)
    assert "Pausieren" in german, f"the Pause submenu's title is not German: {german}"
    assert "Pause" not in german, f"the tray menu still reads 'Pause': {german}"
    assert "Für 15 Minuten" in german, f"the Pause submenu lost its entries: {german}"
    session.screenshot(os.path.join(screenshots, "window-de.png"))
    select_language(session, "en")
    session.wait_text("#controls-heading", "Sync")
    session.wait("the English tray menu again", lambda: "Quit" in tray_labels(menu))
    english = tray_labels(menu)
    assert "Pause" in english, f"the Pause submenu's title is not English again: {english}"
    assert "For 15 minutes" in english, f"the Pause submenu lost its entries: {english}"
    print(f"languages: window and tray menu in German and back; tray menu: {english}")


def settings_field(session):
    """The check interval's value and validation message, and the line next to Save."""
    return session.run(
        "const field = document.getElementById('poll-interval');"
        "const status = document.getElementById('settings-status');"
        "return {value: field.value, message: field.validationMessage,"
        " invalid: field.getAttribute('aria-invalid'), status: status.textContent,"
        " failed: status.classList.contains('failed')};"
    )


def type_interval(session, text):
    field = session.find("#poll-interval")
    session.command("POST", f"/element/{field}/clear", {})
    session.command("POST", f"/element/{field}/value", {"text": text})
    session.wait(f"the check interval {text!r}", lambda: settings_field(session)["value"] == text)


def check_settings_form(session):
    """An invalid check interval gets our message in the page's language, a Save names the
    field next to the button, and a valid Save shows "Settings saved" for a few seconds."""
    messages = {
        "en": ("Enter a number of seconds from 1 to 600 in steps of 0.5.",
               "Not saved. Teams check interval (seconds): ", "Settings saved"),
        "de": ("Geben Sie eine Sekundenzahl von 1 bis 600 in Schritten von 0,5 ein.",
               "Nicht gespeichert. Prüfintervall für Teams (Sekunden): ", "Einstellungen gespeichert"),
    }
    for language, (message, not_saved, saved) in messages.items():
        select_language(session, language)
        for value in ("1.25", "0.5", "601", "abc", "2,,5"):
            type_interval(session, value)
            shown = settings_field(session)
            assert shown["message"] == message, f"{value} ({language}): {shown['message']!r}"
        session.click("#save-settings")
        session.wait(f"the failed Save ({language})", lambda: settings_field(session)["status"] == not_saved + message)
        shown = settings_field(session)
        assert shown["failed"], f"the failed Save is not marked as failed: {shown}"
        assert shown["invalid"] == "true", f"the field is not marked invalid: {shown}"

        # Both decimal separators are accepted, in either language.
        for value in ("2,5", "2.5"):
            type_interval(session, value)
            shown = settings_field(session)
            assert shown["message"] == "", f"{value} ({language}) is valid, but the field says {shown['message']!r}"
        type_interval(session, "3")
        shown = settings_field(session)
        assert shown["message"] == "", f"3 s is valid, but the field says {shown['message']!r}"
        assert shown["status"] == "", f"a new value keeps the old Save note {shown['status']!r}"
        assert shown["invalid"] is None, f"the valid field is still marked invalid: {shown}"
        session.click("#save-settings")
        session.wait_text("#settings-status", saved)
        assert not settings_field(session)["failed"], "a successful Save is marked as failed"
        session.wait("the check interval in the Teams card", lambda: " 3 s" in session.text("#teams-bound"))
        session.wait("the Save note to go", lambda: settings_field(session)["status"] == "")
        print(f"settings ({language}): invalid interval named next to Save; Save confirmed")

    select_language(session, "en")
    type_interval(session, "2")
    session.click("#save-settings")
    session.wait_text("#settings-status", "Settings saved")


def demo_rows(session):
    return session.run(
        "return [...document.querySelectorAll('#demo-rows button')].map(b => b.textContent)"
    )


def check_demo_rows(session):
    rows = session.wait("the demo rows", lambda: demo_rows(session))
    print(f"demo rows: {len(rows)}")
    # These three rows map to three different Swyx statuses.
    expectations = {
        "Do not disturb": "Do not disturb",
        "Away": "Away",
        "Available": "Available",
    }
    picked = [label for label in expectations if label in rows]
    assert len(picked) >= 2, f"expected at least two of {list(expectations)} among {rows}"
    for label in picked:
        index = rows.index(label)
        session.click(f"#demo-rows button[data-row='{index}']")
        session.wait_text("#teams-status", label)
        session.wait(
            f"the row {label!r} pressed",
            lambda: session.run(
                "return document.querySelector(arguments[0]).getAttribute('aria-pressed') === 'true'",
                f"#demo-rows button[data-row='{index}']",
            ),
        )
        session.wait_text("#swyx-status", expectations[label])
        print(f"row {label!r}: Teams and Swyx follow")

    # A presentation in Teams leaves Swyx without a call, so the card names the status written.
    session.click(f"#demo-rows button[data-row='{rows.index('Presenting')}']")
    session.wait_text("#teams-status", "Presenting")
    session.wait_text("#swyx-target", "Teams asks for: Away, as set for Teams calls and presentations")
    session.wait_text("#swyx-status", "Speaking (shown in Swyx as Away)")
    print("row 'Presenting': Swyx shows the status set for Teams calls and presentations")
    session.click(f"#demo-rows button[data-row='{rows.index('Available')}']")
    session.wait_text("#swyx-status", "Available")


def check_call(session, screenshots):
    before = len(state(session)["history"])
    session.click("#demo-call-start")
    session.wait("Swyx to show Speaking", lambda: state(session)["swyx"].startswith("Speaking"))
    session.wait_text("#swyx-target", "During the call Swyx stays on Speaking")
    session.wait("a Swyx → Teams sync", lambda: any("Speaking" in row and "Swyx → Teams" in row for row in state(session)["history"]))
    session.screenshot(os.path.join(screenshots, "window-call.png"))
    session.screenshot(os.path.join(screenshots, "window-demo-panel.png"), anchor="#history-heading")
    session.click("#demo-call-end")
    session.wait("Swyx to leave Speaking", lambda: not state(session)["swyx"].startswith("Speaking"))
    session.wait("the clear in the history", lambda: len(state(session)["history"]) >= before + 2)
    print("call: start and end reached Teams")


def check_copy_diagnostics(session):
    """Copy diagnostics puts the bundle on the clipboard, or into a selected text box where the
    clipboard API is rejected. Either way the page shows a note, and the text names no account."""
    upn = session.text("#upn")
    session.click("#copy-diagnostics")
    expected = ("Copied to the clipboard.", "Copying failed; the text is selected below, copy it with Ctrl+C.")
    note = session.wait("the copy note", lambda: session.text("#diagnostics-copied") in expected and session.text("#diagnostics-copied"))
    # WebKitGTK under WebDriver may reject the clipboard API; then the fallback box contains the text.
    shown = session.run("return document.getElementById('diagnostics-text')?.value ?? null")
    if shown is not None:
        name = session.run("return document.getElementById('diagnostics-text').getAttribute('aria-label')")
        assert name == "Diagnostics text", f"the diagnostics text box is named {name!r}"
    text = shown if shown is not None else session.run(
        "return window.__TAURI__.core.invoke('diagnostics')"
    )
    assert text.startswith("Presence Bridge diagnostics"), text[:200]
    assert upn and upn not in text, f"the diagnostics contain the account {upn!r}"
    assert "[log, last" in text, text[:400]
    print(f"copy diagnostics: {note!r}, {len(text.splitlines())} lines, clipboard fallback used: {shown is not None}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="WebKitWebDriver port on 127.0.0.1")
    parser.add_argument("--binary", required=True, help="path to the presence-bridge binary")
    parser.add_argument("--screenshots", required=True, help="folder for the PNG screenshots")
    parser.add_argument("--theme", default="light", help="name used in the screenshot files")
    parser.add_argument("--only-screenshot", action="store_true", help="open the window and save one screenshot")
    options = parser.parse_args()
    os.makedirs(options.screenshots, exist_ok=True)

    session = Session(options.port, os.path.abspath(options.binary), ["--demo"])
    # After Quit the app is gone, and the session with it.
    quit_done = False
    try:
        # The virtual screen is 1280x1000; a taller window shows more of the page per shot.
        session.command("POST", "/window/rect", {"width": 780, "height": 980})
        check_pair(session)
        dark = session.run("return matchMedia('(prefers-color-scheme: dark)').matches")
        print(f"prefers-color-scheme: {'dark' if dark else 'light'}")
        if options.only_screenshot:
            session.screenshot(os.path.join(options.screenshots, f"window-{options.theme}.png"))
            select_language(session, "de")
            session.wait_text("#controls-heading", "Abgleich")
            session.screenshot(os.path.join(options.screenshots, f"window-de-{options.theme}.png"))
            select_language(session, "en")
            if options.theme == "dark" and not dark:
                print("the dark theme was not applied to the page", file=sys.stderr)
                return 1
            return 0
        check_no_tray_hint(session)
        check_sync_switch(session)
        check_keyboard(session)
        check_sign_out_and_in(session)
        check_sign_in_with_code(session, options.screenshots)
        session.screenshot(os.path.join(options.screenshots, "window-en.png"))
        check_languages(session, options.screenshots)
        check_settings_form(session)
        check_demo_rows(session)
        check_call(session, options.screenshots)
        check_copy_diagnostics(session)
        session.screenshot(os.path.join(options.screenshots, "window-diagnostics.png"), anchor="#diagnostics-heading")
        check_quit(session)
        quit_done = True
    finally:
        if not quit_done:
            session.close()
    print("webdriver test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
