#!/usr/bin/env python3
"""Stand in for a Presence Bridge instance that quits while a second start hands over to it.

Owns the app's single-instance name on the session bus, prints "ready", and exits without a
reply on the first call it receives, as an instance does that quits at that moment.
"""

import os

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

NAME = "de.presencebridge.app.SingleInstance"


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    reply = bus.request_name(NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    if reply != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
        raise SystemExit(f"could not own {NAME}: reply {reply}")

    def on_message(_bus, message):
        if isinstance(message, dbus.lowlevel.MethodCallMessage) and message.get_member() == "ExecuteCallback":
            print("call received; quitting without a reply", flush=True)
            os._exit(0)

    bus.add_message_filter(on_message)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
