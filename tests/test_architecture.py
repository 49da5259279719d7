"""The package's shape (issue 14), checked so it stays true: imports run one way
(`cli/ui -> interchange -> project -> storage, suggestions, analysis, readers -> records, errors,
files`), no cycles anywhere (function-level imports included), the interfaces reach no SQL,
NLP, reader or file-format code, and no module grows past 800 lines. The contracts are in
pyproject.toml ([tool.importlinter]); `lint-imports` shows the same report."""

import subprocess
import sys

from conftest import ROOT

LONGEST = 800


def test_import_contracts_hold():
    done = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import "
                           "lint_imports; sys.exit(lint_imports())"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 4 kept, 0 broken." in done.stdout


def test_no_module_is_over_800_lines():
    lengths = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
               for path in (ROOT / "coding").rglob("*.py")}
    assert {name: n for name, n in lengths.items() if n > LONGEST} == {}
