"""Test support: the repository's conformance vectors and the project's emulator (node dist/cli.cjs emulator)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
PORT = ROOT / "ports" / "python"
PRODUCT_CODE = "prod-python-port"

# Static credentials from the environment (botocore's default chain), no real AWS configuration.
TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
}
for _name in ("AWS_PROFILE", "AWS_CA_BUNDLE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
    os.environ.pop(_name, None)
os.environ.update(TEST_ENVIRONMENT)
# Retries are logged as warnings; the tests assert on attempts instead.
logging.getLogger("marketplace_entitlement").addHandler(logging.NullHandler())
logging.getLogger("marketplace_entitlement").propagate = False


def vectors(name: str) -> Any:
    path = ROOT / "test" / "vectors" / name
    if not path.exists():
        raise AssertionError(f"{path} is missing: run node scripts/generate-vectors.mjs")
    return json.loads(path.read_text())


class Emulator:
    """`node dist/cli.cjs emulator ARGS` on an ephemeral port, or with ``scenario`` the emulator with a scenario the CLI
    has no flag for (test/support/emulator-scenario.mjs); ``stop()`` returns how many calls it answered."""

    def __init__(self, *args: str, scenario: dict[str, Any] | None = None) -> None:
        if not (ROOT / "dist" / "cli.cjs").exists():
            raise AssertionError(f"the build is missing: run npm ci && npm run build in {ROOT}")
        node = os.environ.get("NODE") or shutil.which("node")
        if node is None:
            raise AssertionError("node is not installed: the emulator runs on Node.js")
        self._dir = tempfile.TemporaryDirectory(prefix="me-py-")
        self.key_file = os.path.join(self._dir.name, "emulator-key.pem")
        if scenario is None:
            command = ["dist/cli.cjs", "emulator", "--port", "0", "--public-key-out", self.key_file, *args]
        else:
            command = ["test/support/emulator-scenario.mjs", self.key_file, json.dumps(scenario)]
        self._process = subprocess.Popen(
            [node, *command],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        match = re.search(r"listening on (http://\S+?);", first)
        if match is None:
            self._process.kill()
            raise AssertionError(f"the emulator did not start: {first!r} {self._process.stdout.read()}")
        self.url = match.group(1)
        self._output: list[str] = []
        self._reader = threading.Thread(target=lambda: self._output.extend(self._process.stdout), daemon=True)  # type: ignore[arg-type]
        self._reader.start()
        self._calls: int | None = None

    @property
    def key(self) -> bytes:
        with open(self.key_file, "rb") as key:
            return key.read()

    def stop(self) -> int:
        if self._calls is None:
            self._process.terminate()
            self._process.wait()
            self._reader.join()
            assert self._process.stdout is not None
            self._process.stdout.close()
            match = re.search(r'"event":"emulator.stopped".*?"calls":(\d+)', "".join(self._output))
            if match is None:
                raise AssertionError(f"the emulator's stop line is missing: {''.join(self._output)}")
            self._calls = int(match.group(1))
            self._dir.cleanup()
        return self._calls
