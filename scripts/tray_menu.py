#!/usr/bin/env python3
"""Read and click the tray menu of a running app over D-Bus (the com.canonical.dbusmenu API).

Usage:
  tray_menu.py BUS PATH list                  print every item as "id: label"
  tray_menu.py BUS PATH click LABEL           send a "clicked" event to the item with LABEL
  tray_menu.py BUS PATH get LABEL PROPERTY    print a property of the item, e.g. toggle-state

BUS is the app's unique bus name and PATH the menu's object path; it calls `busctl --user`.
Labels are compared without the "_" mnemonic markers.
"""

import json
import subprocess
import sys


def layout(bus, path):
    output = subprocess.run(
        ["busctl", "--user", "--json=short", "call", bus, path, "com.canonical.dbusmenu",
         "GetLayout", "iias", "--", "0", "-1", "0"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(output)["data"][1]


def items(node, depth=0):
    """Yield (depth, id, properties) for every item below `node`."""
    item_id, properties, children = node
    yield depth, item_id, properties
    for child in children:
        yield from items(child["data"], depth + 1)


def label_of(properties):
    return properties.get("label", {}).get("data", "").replace("_", "")


def find(bus, path, label):
    for _, item_id, properties in items(layout(bus, path)):
        if label_of(properties) == label:
            return item_id, properties
    sys.exit(f"no tray menu item labelled {label!r}")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    bus, path, command = argv[0], argv[1], argv[2]
    if command == "list":
        for depth, item_id, properties in items(layout(bus, path)):
            if label_of(properties):
                print(f"{'  ' * depth}{item_id}: {label_of(properties)}")
    elif command == "click":
        item_id, _ = find(bus, path, argv[3])
        subprocess.run(
            ["busctl", "--user", "call", bus, path, "com.canonical.dbusmenu", "Event", "isvu",
             str(item_id), "clicked", "i", "0", "0"],
            check=True)
    elif command == "get":
        _, properties = find(bus, path, argv[3])
        # dbusmenu leaves out properties that have their default value (enabled: true).
        defaults = {"enabled": True, "visible": True, "toggle-state": -1}
        value = properties.get(argv[4], {}).get("data", defaults.get(argv[4]))
        print(json.dumps(value))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
