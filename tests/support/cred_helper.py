"""A docker credential helper for tests: ``docker-credential-pydock-test``.

Stores credentials in the JSON file named by ``PYDOCK_TEST_CRED_STORE``
(``{server: {"Username": ..., "Secret": ...}}``) and logs each action to
``<store>.log``. Installed on ``PATH`` by :func:`install_helper`.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

NAME = "pydock-test"


def main() -> int:
    store = Path(os.environ["PYDOCK_TEST_CRED_STORE"])
    data = json.loads(store.read_text()) if store.exists() else {}
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    text = sys.stdin.read()
    with open(str(store) + ".log", "a") as log:
        log.write(action + "\n")
    if action == "get":
        entry = data.get(text.strip())
        if entry is None:
            sys.stdout.write("credentials not found in native keychain\n")
            return 1
        json.dump({"ServerURL": text.strip(), **entry}, sys.stdout)
    elif action == "store":
        payload = json.loads(text)
        data[payload["ServerURL"]] = {"Username": payload["Username"], "Secret": payload["Secret"]}
        store.write_text(json.dumps(data))
    elif action == "erase":
        data.pop(text.strip(), None)
        store.write_text(json.dumps(data))
    elif action == "list":
        json.dump({k: v["Username"] for k, v in data.items()}, sys.stdout)
    else:
        sys.stdout.write(f"unknown action {action!r}\n")
        return 1
    return 0


def install_helper(bin_dir: Path) -> Path:
    """Write the helper program into ``bin_dir`` (put it on ``PATH``)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    program = bin_dir / f"docker-credential-{NAME}"
    program.write_text(f"#!{sys.executable}\n" + Path(__file__).read_text())
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


if __name__ == "__main__":
    sys.exit(main())
