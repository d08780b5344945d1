"""Shared fixtures for the integration suite: where the built binaries are, and helpers that
build a busybox bundle in a temporary directory and clean up every container a test made."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

BUILD = os.environ.get("MOAT_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
RUNTIME = os.environ.get("MOAT_RUNTIME", os.path.join(BUILD, "src", "cli", "moat-runtime"))
BUSYBOX = "/bin/busybox"


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(args, **kw)


@pytest.fixture
def runtime():
    return RUNTIME
