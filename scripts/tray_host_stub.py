#!/usr/bin/python3
"""A stand-in StatusNotifier watcher and host, plus a Secret Service that only records callers.

Usage: tray_host_stub.py EVENTS_FILE [--secrets-only]

With --secrets-only it owns only the Secret Service name, so no tray host is running. Runs on
the session bus until SIGTERM and appends one JSON object per line to EVENTS_FILE, each
with "t" (Unix time in seconds) and "event":

- "ready": both bus names are owned;
- "registered" / "unregistered": a StatusNotifierItem registered, or its bus name went away
  ("bus", "path", "pid");
- "title": the item's Title after a NewTitle signal or at registration ("bus", "title");
- "menu": the labels of the item's top-level menu entries after a dbusmenu LayoutUpdated or
  ItemsPropertiesUpdated signal or at registration ("bus", "labels");
- "secrets-call": a method call to org.freedesktop.secrets ("sender", "pid", "member"); the
  caller gets an error back, so it never waits for a timeout.

Needs python3-dbus and python3-gi (Debian), hence /usr/bin/python3.
"""

import json
import signal
import sys
import time

import dbus
import dbus.lowlevel
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
DBUSMENU = "com.canonical.dbusmenu"
PROPERTIES = "org.freedesktop.DBus.Properties"
SECRETS = "org.freedesktop.secrets"


class Events:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8", buffering=1)

    def write(self, event, **fields):
        self.file.write(json.dumps({"t": time.time(), "event": event, **fields}) + "\n")


def pid_of(bus, name):
    try:
        return int(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
                   .GetConnectionUnixProcessID(name, dbus_interface="org.freedesktop.DBus"))
    except dbus.DBusException:
        return None


def top_labels(bus, name, menu_path):
    """Return the labels of the menu's top-level entries, without separators."""
    menu = bus.get_object(name, menu_path, introspect=False)
    _, layout = menu.GetLayout(0, 1, ["label", "type"], dbus_interface=DBUSMENU)
    labels = []
    for child in layout[2]:
        properties = child[1]
        if properties.get("type") == "separator":
            continue
        labels.append(str(properties.get("label", "")).replace("_", ""))
    return labels


class Watcher(dbus.service.Object):
    def __init__(self, bus, events):
        super().__init__(bus, "/StatusNotifierWatcher")
        self.bus = bus
        self.events = events
        self.items = {}  # bus name -> object path

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # libayatana-appindicator passes its object path; other items pass a bus name.
        path = service if service.startswith("/") else "/StatusNotifierItem"
        name = sender if service.startswith("/") else service
        self.items[name] = path
        self.events.write("registered", bus=name, path=path, pid=pid_of(self.bus, name))
        self.StatusNotifierItemRegistered(f"{name}{path}")
        GLib.idle_add(self.follow, name, path)

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemUnregistered(self, item):
        pass

    @dbus.service.signal(WATCHER, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    def properties(self):
        items = [f"{name}{path}" for name, path in self.items.items()]
        return {
            "RegisteredStatusNotifierItems": dbus.Array(items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        return self.properties()[name]

    @dbus.service.method(PROPERTIES, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return self.properties()

    def follow(self, name, path):
        """Read the item's Title and menu now and after each change signal."""
        item = self.bus.get_object(name, path, introspect=False)
        menu_path = str(item.Get(ITEM, "Menu", dbus_interface=PROPERTIES))

        def title(*_):
            value = str(item.Get(ITEM, "Title", dbus_interface=PROPERTIES))
            self.events.write("title", bus=name, title=value)

        def menu(*_):
            self.events.write("menu", bus=name, labels=top_labels(self.bus, name, menu_path))

        self.bus.add_signal_receiver(title, "NewTitle", ITEM, name, path)
        self.bus.add_signal_receiver(menu, "LayoutUpdated", DBUSMENU, name, menu_path)
        self.bus.add_signal_receiver(menu, "ItemsPropertiesUpdated", DBUSMENU, name, menu_path)
        title()
        menu()
        return False

    def name_owner_changed(self, name, old, new):
        if name in self.items and not new:
            path = self.items.pop(name)
            self.events.write("unregistered", bus=name, path=path, pid=None)
            self.StatusNotifierItemUnregistered(f"{name}{path}")


def record_secrets_calls(bus, events):
    """Record every call to the Secret Service name and reject it at once."""
    def on_message(connection, message):
        if (message.get_type() != dbus.lowlevel.MESSAGE_TYPE_METHOD_CALL
                or message.get_destination() != SECRETS):
            return dbus.lowlevel.HANDLER_RESULT_NOT_YET_HANDLED
        sender = message.get_sender()
        events.write("secrets-call", sender=sender, pid=pid_of(bus, sender),
                     member=message.get_member())
        connection.send_message(dbus.lowlevel.ErrorMessage(
            message, "org.freedesktop.DBus.Error.NotSupported", "test stand-in keyring"))
        return dbus.lowlevel.HANDLER_RESULT_HANDLED

    bus.add_message_filter(on_message)


def main(argv):
    if len(argv) not in (1, 2) or argv[1:] not in ([], ["--secrets-only"]):
        sys.exit(__doc__)
    secrets_only = argv[1:] == ["--secrets-only"]
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    events = Events(argv[0])
    watcher = Watcher(bus, events)
    bus.add_signal_receiver(watcher.name_owner_changed, "NameOwnerChanged",
                            "org.freedesktop.DBus", "org.freedesktop.DBus")
    record_secrets_calls(bus, events)
    secrets_name = dbus.service.BusName(SECRETS, bus, do_not_queue=True)
    watcher_name = None
    if not secrets_only:
        watcher_name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)
        watcher.StatusNotifierHostRegistered()
    events.write("ready")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    loop.run()
    del watcher_name, secrets_name


if __name__ == "__main__":
    main(sys.argv[1:])
