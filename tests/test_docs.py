"""The docs cannot rot: every Python block in README.md and docs/*.md runs, and every block of
generated code (marked `<!-- generated: EXPR -->`) is exactly what adjoint generates today."""
import glob
import os
import re
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
BLOCK = re.compile(r"(?:<!-- generated: (?P<expr>.+?) -->\n)?```python\n(?P<code>.*?)```", re.S)


def script_for(page):
    """The page's Python blocks as one script; generated blocks become comparisons."""
    lines = ["def _same(expression, got, expected):",
             "    assert got.strip() == expected.strip(), f'{expression} now gives:\\n{got}'", ""]
    for match in BLOCK.finditer(open(page).read()):
        if match.group("expr"):
            expr = match.group("expr")
            lines.append(f"_same({expr!r}, {expr}, {match.group('code')!r})")
        else:
            lines.append(match.group("code"))
    return "\n".join(lines)


@pytest.mark.parametrize("page", PAGES, ids=[os.path.relpath(p, ROOT) for p in PAGES])
def test_page_runs_and_its_generated_code_is_current(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    script = tmp_path / (os.path.basename(page).replace(".", "_").replace("-", "_") + ".py")
    script.write_text(script_for(page))
    runpy.run_path(str(script), run_name="docs_page")


def test_table_of_supported_functions_is_current():
    """docs/rules.md is made from the rule table: regenerate it with `python -m adjoint.rules.table`."""
    from adjoint.rules import table
    with open(os.path.join(ROOT, "docs", "rules.md")) as page:
        assert page.read() == table.markdown(), "run: python -m adjoint.rules.table > docs/rules.md"
