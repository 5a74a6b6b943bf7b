"""Streamlit Community Cloud readiness: the files Cloud reads agree with pyproject.toml.

Cloud installs from the first of uv.lock, Pipfile, environment.yml and requirements.txt that it
finds (pyproject.toml only as Poetry), so requirements.txt must list exactly the project's
runtime dependencies.
"""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def normalized(requirement: str) -> tuple[str, frozenset[str], str, str]:
    """Name, extras, specifier and marker in canonical form: equal when pip reads them alike."""
    parsed = Requirement(requirement)
    return (
        canonicalize_name(parsed.name),
        frozenset(canonicalize_name(extra) for extra in parsed.extras),
        str(SpecifierSet(str(parsed.specifier))),
        str(parsed.marker or ""),
    )


def requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [
        line.split(" #")[0].strip() for line in lines if line.strip() and not line.startswith("#")
    ]


def test_requirements_txt_lists_exactly_the_runtime_dependencies():
    lines = requirement_lines()
    dependencies = PYPROJECT["project"]["dependencies"]
    assert len(lines) == len(dependencies)
    assert {normalized(line) for line in lines} == {normalized(item) for item in dependencies}


def test_tensorflow_is_the_cpu_build_on_linux():
    by_name = {Requirement(line).name: Requirement(line) for line in requirement_lines()}
    linux = {"sys_platform": "linux"}
    assert by_name["tensorflow-cpu"].marker.evaluate(linux)
    assert not by_name["tensorflow"].marker.evaluate(linux)
    assert by_name["tensorflow"].marker.evaluate({"sys_platform": "darwin"})


def test_requires_python_matches_the_versions_tensorflow_has_wheels_for():
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    for version in ("3.11", "3.12", "3.13"):  # Cloud offers 3.12 and 3.13 among others
        assert requires.contains(version), version
    assert not requires.contains("3.14") and not requires.contains("3.14.1")


def test_streamlit_config_has_a_theme_and_sends_no_usage_stats():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["headless"] is True
    theme = config["theme"]
    assert theme["base"] in ("light", "dark")
    for color in ("primaryColor", "backgroundColor", "textColor"):
        assert theme[color].startswith("#"), color


def test_readme_has_one_command_to_run_the_app_and_one_to_run_the_tests():
    readme = (ROOT / "README.md").read_text()
    assert readme.count("pip install -e . && streamlit run app.py") == 1
    assert readme.count('pip install -e ".[test]" && pytest') == 1


def test_the_engine_imports_no_streamlit(tmp_path):
    """ruff's banned-API rule (TID251) holds for the sources, and it does catch a violation."""
    import shutil
    import subprocess
    import sys

    ruff = [sys.executable, "-m", "ruff", "check", "--select", "TID251", "--no-cache"]
    clean = subprocess.run([*ruff, "."], cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout
    (tmp_path / "explorer" / "ui").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "explorer" / "engine.py").write_text("import streamlit\n")
    (tmp_path / "explorer" / "ui" / "page.py").write_text("import streamlit\n")
    caught = subprocess.run([*ruff, "."], cwd=tmp_path, capture_output=True, text=True)
    assert caught.returncode == 1
    assert "explorer/engine.py" in caught.stdout and "page.py" not in caught.stdout
