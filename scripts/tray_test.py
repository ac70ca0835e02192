#!/usr/bin/python3
"""Tray and second-launch tests of the real app on a private D-Bus session and X server.

Usage (inside Xvfb and dbus-run-session, as scripts/tray_test.sh runs it):
  tray_test.py watcher BINARY WORK   a stand-in tray host: the menu, Title, second launch
  tray_test.py no-watcher BINARY WORK   no tray host: the window opens, sync runs, SIGTERM quits,
                                        and a tenant start reads the stand-in keyring

Prints each step and every measured delay, and exits with 1 at the first failed check.
Needs python3-dbus and python3-gi (Debian), xwininfo (x11-utils) and libX11.
"""

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import dbus

HERE = os.path.dirname(os.path.abspath(__file__))
WATCHER = "org.kde.StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
DBUSMENU = "com.canonical.dbusmenu"
PROPERTIES = "org.freedesktop.DBus.Properties"
WINDOW_TITLE = "Presence Bridge"
# The core's default poll interval in demo mode, in seconds.
POLL_INTERVAL = 2.0
MENU_ENTRIES = ["Open Presence Bridge", "Sync: on", "Pause", "Sign out", "Quit"]


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_for(description, predicate, timeout, step=0.05):
    """Poll `predicate` until it returns a true value; return that value or fail."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {description}")
        time.sleep(step)


class App:
    """One app process with its stderr log."""

    def __init__(self, binary, work, name, *args):
        self.log_path = os.path.join(work, f"{name}.err")
        self.process = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL,
                                        stderr=open(self.log_path, "w"))

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as file:
            return file.read()

    def twin_url(self):
        match = re.search(r"twin=(http://\S+?)/?\s", self.log())
        return match.group(1) if match else None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Twin:
    """The admin API of the demo Graph twin inside the first instance."""

    def __init__(self, url):
        self.url = url

    def requests(self):
        with urllib.request.urlopen(f"{self.url}/_twin/requests", timeout=5) as response:
            return json.load(response)

    def count(self, endpoint, records=None):
        records = self.requests() if records is None else records
        return sum(1 for record in records
                   if record["endpoint"] == endpoint and record["actor"] == "app")

    def set_teams(self, availability, activity):
        body = json.dumps({"availability": availability, "activity": activity}).encode()
        request = urllib.request.Request(f"{self.url}/_twin/teams", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()


class Events:
    """The stand-in tray host's event file."""

    def __init__(self, path):
        self.path = path

    def all(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]

    def of(self, kind, since=0.0):
        return [event for event in self.all() if event["event"] == kind and event["t"] >= since]

    def registered_items(self):
        items = set()
        for event in self.all():
            if event["event"] == "registered":
                items.add(event["bus"])
            elif event["event"] == "unregistered":
                items.discard(event["bus"])
        return items


class Display:
    """Reads window state from the X server through Xlib."""

    def __init__(self):
        self.xlib = ctypes.cdll.LoadLibrary("libX11.so.6")
        self.xlib.XOpenDisplay.restype = ctypes.c_void_p
        self.display = ctypes.c_void_p(self.xlib.XOpenDisplay(None))
        check(self.display.value, "cannot open the X display")

    def windows(self):
        """Return the ids of the top-level windows titled WINDOW_TITLE."""
        tree = subprocess.run(["xwininfo", "-root", "-children"], capture_output=True,
                              text=True, check=True).stdout
        return [int(match.group(1), 16) for match in
                re.finditer(rf'^\s+(0x[0-9a-f]+) "{re.escape(WINDOW_TITLE)}"', tree, re.M)]

    def viewable(self, window):
        info = subprocess.run(["xwininfo", "-id", hex(window)], capture_output=True, text=True,
                              check=True).stdout
        return "Map State: IsViewable" in info

    def visible_window(self):
        return next((window for window in self.windows() if self.viewable(window)), None)

    def focus(self):
        window = ctypes.c_ulong()
        revert = ctypes.c_int()
        self.xlib.XGetInputFocus(self.display, ctypes.byref(window), ctypes.byref(revert))
        return window.value

    def contains(self, window, child):
        tree = subprocess.run(["xwininfo", "-id", hex(window), "-tree"], capture_output=True,
                              text=True, check=True).stdout
        ids = {window} | {int(match, 16) for match in re.findall(r"^\s+(0x[0-9a-f]+)", tree, re.M)}
        return child in ids


def menu_of(bus, name, path):
    item = bus.get_object(name, path, introspect=False)
    return bus.get_object(name, str(item.Get(ITEM, "Menu", dbus_interface=PROPERTIES)),
                          introspect=False)


def menu_items(menu):
    """Yield (id, label, properties) for every entry of the menu, submenus included."""
    _, layout = menu.GetLayout(0, -1, dbus.Array([], signature="s"), dbus_interface=DBUSMENU)

    def walk(node):
        item_id, properties, children = node
        yield int(item_id), str(properties.get("label", "")).replace("_", ""), properties
        for child in children:
            yield from walk(child)

    yield from walk(layout)


def click(menu, label):
    """Send a dbusmenu "clicked" event to the entry labelled `label`; return the send time."""
    for item_id, item_label, _ in menu_items(menu):
        if item_label == label:
            sent = time.time()
            menu.Event(item_id, "clicked", dbus.Int32(0, variant_level=1), dbus.UInt32(0),
                       dbus_interface=DBUSMENU)
            return sent
    raise Failure(f"no tray menu entry labelled {label!r}")


def wait_menu_label(events, label, since, timeout=5):
    event = wait_for(f"the menu label {label!r}", lambda: next(
        (e for e in events.of("menu", since) if label in e["labels"]), None), timeout)
    return event["t"] - since


def wait_title(events, pattern, since, timeout=10):
    event = wait_for(f"a Title matching {pattern!r}", lambda: next(
        (e for e in events.of("title", since) if re.search(pattern, e["title"])), None), timeout)
    return event


def polls_in(twin, seconds):
    before = twin.count("presence")
    time.sleep(seconds)
    return twin.count("presence") - before


def run_watcher(binary, work):
    events = Events(os.path.join(work, "tray-events.jsonl"))
    stub = start_stub(events)
    first = None
    try:
        display = Display()
        first = App(binary, work, "first", "--demo", "--demo-call", "--hidden")
        wait_for("the tray item's registration", lambda: events.of("registered"), 15)
        twin = Twin(wait_for("the Graph twin's address in the log", first.twin_url, 15))
        bus = dbus.SessionBus()
        (name,) = events.registered_items()
        path = events.of("registered")[0]["path"]
        menu = menu_of(bus, name, path)

        # The menu's top level has exactly the five entries.
        labels = wait_for("the signed-in menu", lambda: next(
            (e["labels"] for e in events.of("menu") if e["labels"] == MENU_ENTRIES), None), 15)
        print(f"one tray item {name}{path}; top-level menu: {labels}")

        # The demo call is on: one setPresence, and the window stays hidden.
        wait_for("the demo call's setPresence", lambda: twin.count("setPresence") >= 1, 15)
        check(display.visible_window() is None, "the window is visible despite --hidden")
        title = wait_title(events, r"^Teams: .+ · Swyx: Speaking$", 0)["title"]
        print(f"window hidden; call on; Title: {title!r}")

        run_second_launch(binary, work, twin, events, display)
        run_menu_updates(twin, events, menu)
        run_menu_actions(first, events, menu, display)
        check(not events.of("secrets-call"),
              f"the keyring was called: {events.of('secrets-call')}")
        print("no call reached the keyring")
    finally:
        if first is not None:
            first.stop()
        stub.send_signal(signal.SIGTERM)
        stub.wait(10)


def run_second_launch(binary, work, twin, events, display):
    """A second launch exits at once, touches nothing and shows the first window."""
    # With a tenant configuration the second process would read the keyring and poll Graph
    # (here: the twin) as soon as its core started.
    config = write_tenant_config(twin.url)
    # After the call's setPresence the core holds its polls for a few seconds, so the
    # baseline starts once polling runs.
    wait_for("steady polling", lambda: twin.count("presence") >= 3, 15)
    polls_before = polls_in(twin, 10)
    sets_before = twin.count("setPresence")
    started = time.time()
    second = App(binary, work, "second")
    try:
        code = second.process.wait(10)
    except subprocess.TimeoutExpired:
        second.stop()
        raise Failure("the second launch still ran after 10 s")
    elapsed = time.time() - started
    print(f"second launch: exit code {code} after {elapsed:.2f} s (goal: 0 within 2 s)")
    check(code == 0, f"the second launch exited with code {code}")
    check("already running" in second.log(),
          f"the second launch did not say that the app is already running: {second.log()[-400:]!r}")
    polls_after = polls_in(twin, 10)
    sets_after = twin.count("setPresence")
    print(f"Graph polls in 10 s: {polls_before} before, {polls_after} after the second launch "
          f"(expected about {10 / POLL_INTERVAL:.0f}); setPresence: {sets_before} before, "
          f"{sets_after} after")
    # The core's jitter (at most 10 % of the interval) allows one poll more than
    # 10 / POLL_INTERVAL in 10 s; a second core polling the same twin would double the count.
    check(polls_after <= 10 / POLL_INTERVAL + 1, "the second launch raised the Graph poll rate")
    check(sets_after == sets_before, "the second launch sent another setPresence")
    os.remove(config)

    window = display.visible_window()
    check(window is not None, "the first instance's window is not visible after a second launch")
    focus = display.focus()
    check(display.contains(window, focus),
          f"the X input focus is on {hex(focus)}, not on the window {hex(window)}")
    check(len(events.registered_items()) == 1,
          f"tray items registered: {sorted(events.registered_items())}")
    print(f"window {hex(window)} visible and focused; exactly one tray item")


def run_menu_updates(twin, events, menu):
    """The Sync label and the Title follow the core; print the measured delays."""
    sent = click(menu, "Sync: on")
    off = wait_menu_label(events, "Sync: off", sent)
    wait_for("pausing disabled while sync is off", lambda: pause_enabled(menu) is False, 5)
    sent = click(menu, "Sync: off")
    on = wait_menu_label(events, "Sync: on", sent)
    wait_for("pausing enabled again with sync on", lambda: pause_enabled(menu) is True, 5)
    print(f"Sync label after a menu click: 'Sync: off' in {off * 1000:.0f} ms, "
          f"'Sync: on' in {on * 1000:.0f} ms (goal: 1000 ms)")

    # A Teams change reaches the app with its next poll; the Title follows that poll.
    changed = time.time()
    twin.set_teams("DoNotDisturb", "DoNotDisturb")
    event = wait_title(events, r"^Teams: Do not disturb", changed)
    poll_answered = answered_after(twin, changed)
    print(f"Title {event['title']!r} {(event['t'] - changed) * 1000:.0f} ms after the Teams "
          f"change (includes waiting for the next poll, every {POLL_INTERVAL:.0f} s), "
          f"{(event['t'] - poll_answered) * 1000:.0f} ms after the poll that fetched it "
          f"was answered (goal: 1000 ms)")


def pause_enabled(menu):
    """Return whether the menu's "For 15 minutes" item is enabled, or None without the item."""
    for _, label, properties in menu_items(menu):
        if label == "For 15 minutes":
            return bool(properties.get("enabled", True))
    return None


def answered_after(twin, since):
    """Return the wall time of the twin's response to the first app poll after `since`.

    The twin logs times on its own clock, so one request of ours, sent at a known wall time,
    ties that clock to the wall clock (within the request's round trip)."""
    sent = time.time()
    try:
        urllib.request.urlopen(f"{twin.url}/v1.0/me", timeout=5).close()
    except urllib.error.HTTPError:
        pass  # 401 without a token, which is expected; the twin still logs the request.
    records = twin.requests()
    # The app reads /me only at sign-in, so the newest /me request is ours.
    ours = max((record for record in records if record["path"] == "/v1.0/me"),
               key=lambda record: record["id"])
    offset = sent - ours["sent"] / 1000.0
    polls = [record for record in records if record["endpoint"] == "presence"
             and record["actor"] == "app" and record["answered"] is not None
             and record["answered"] / 1000.0 + offset >= since]
    check(polls, "no poll answered after the Teams change")
    return polls[0]["answered"] / 1000.0 + offset


def run_menu_actions(first, events, menu, display):
    """Every action through the menu, with no click on the icon."""
    sent = click(menu, "For 15 minutes")
    wait_for("Resume enabled", lambda: any(
        label == "Resume" and properties.get("enabled", True)
        for _, label, properties in menu_items(menu)), 5)
    click(menu, "Resume")
    print(f"paused and resumed from the menu ({(time.time() - sent) * 1000:.0f} ms)")
    sent = click(menu, "Sign out")
    wait_menu_label(events, "Sign in", sent)
    sent = click(menu, "Sign in")
    wait_menu_label(events, "Sign out", sent, timeout=15)
    print("signed out and in again from the menu")
    click(menu, "Open Presence Bridge")
    wait_for("the window after Open", display.visible_window, 5)
    sent = click(menu, "Quit")
    code = first.process.wait(10)
    print(f"Quit from the menu: exit code {code} after {time.time() - sent:.2f} s")
    check(code == 0, f"the app exited with code {code} after Quit")
    wait_for("the tray item to go away", lambda: not events.registered_items(), 5)
    check("presence bridge stopped code=0" in first.log(), "the log shows no clean stop")


def start_stub(events, *args):
    stub = subprocess.Popen([sys.executable, os.path.join(HERE, "tray_host_stub.py"),
                             events.path, *args],
                            stderr=open(os.path.join(os.path.dirname(events.path), "stub.err"), "w"))
    wait_for("the stand-in tray host", lambda: events.of("ready"), 10)
    return stub


def write_tenant_config(base_url):
    """Write a tenant configuration that points Entra ID and Graph at `base_url`."""
    config = os.path.join(os.environ["PRESENCE_BRIDGE_HOME"], "config", "config.toml")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w", encoding="utf-8") as file:
        file.write(f'[tenant]\nclient_id = "00000000-0000-0000-0000-000000000001"\n'
                   f'authority_host = "{base_url}/"\ngraph_base = "{base_url}/v1.0/"\n')
    return config


def run_no_watcher(binary, work):
    events = Events(os.path.join(work, "tray-events.jsonl"))
    stub = start_stub(events, "--secrets-only")
    try:
        run_alone(binary, work)
        run_keyring_control(binary, work, events)
    finally:
        stub.send_signal(signal.SIGTERM)
        stub.wait(10)


def run_keyring_control(binary, work, events):
    """A tenant start reads the keyring, so the stand-in keyring would see a second launch."""
    # Nothing listens on the discard port, so the tenant's sign-in fails at once.
    config = write_tenant_config("http://127.0.0.1:9")
    started = time.time()
    app = App(binary, work, "tenant")
    try:
        event = wait_for("a keyring call from a tenant start", lambda: next(
            (e for e in events.of("secrets-call") if e["pid"] == app.process.pid), None), 10)
        print(f"control: a tenant start calls the keyring ({event['member']}) "
              f"{(event['t'] - started) * 1000:.0f} ms after its start")
    finally:
        app.stop()
        os.remove(config)


def run_alone(binary, work):
    display = Display()
    started = time.time()
    app = App(binary, work, "alone", "--demo", "--hidden")
    try:
        window = wait_for("the window", display.visible_window, 5)
        print(f"no tray host: window {hex(window)} visible {time.time() - started:.2f} s after "
              f"the start, although --hidden was given (goal: 5 s)")
        check("tray_host=false" in app.log(), "the app did not notice the missing tray host")
        twin = Twin(wait_for("the Graph twin's address in the log", app.twin_url, 15))
        wait_for("the first polls", lambda: twin.count("presence") >= 2, 15)
        polls = polls_in(twin, 6)
        print(f"demo sync runs: {polls} Graph polls in 6 s")
        check(polls >= 2, "no demo sync without a tray host")
        sent = time.time()
        app.process.send_signal(signal.SIGTERM)
        code = app.process.wait(10)
        print(f"SIGTERM: exit code {code} after {time.time() - sent:.2f} s")
        check(code == 0, f"the app exited with code {code} after SIGTERM")
    finally:
        app.stop()


def main(argv):
    if len(argv) != 3 or argv[0] not in ("watcher", "no-watcher"):
        sys.exit(__doc__)
    mode, binary, work = argv
    try:
        if mode == "watcher":
            run_watcher(binary, work)
        else:
            run_no_watcher(binary, work)
    except Failure as failure:
        print(f"FAIL: {failure}")
        return 1
    print(f"tray test ({mode}) passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
