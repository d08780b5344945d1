from conftest import run, RUNTIME, IS_MOAT
import pytest


@pytest.mark.skipif(not IS_MOAT, reason="moat-runtime's own version text")
def test_version_names_spec():
    r = run([RUNTIME, "--version"])
    assert r.returncode == 0
    assert "moat-runtime version" in r.stdout
    assert "spec: 1.2" in r.stdout
