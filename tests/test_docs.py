"""The docs cannot rot: every Python block in README.md and docs/*.md runs, and every block of
generated code (marked `<!-- generated: EXPR -->`) is exactly what adjoint generates today.
After a change to the generated code, `ADJOINT_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`
rewrites those blocks; read the diff before committing it."""
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
    lines = ["import os",
             "UPDATES = {}",
             "def _same(expression, got, expected):",
             "    if os.environ.get('ADJOINT_UPDATE_DOCS'):",
             "        UPDATES[expression] = got.strip() + '\\n'",
             "        return",
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
    updates = runpy.run_path(str(script), run_name="docs_page")["UPDATES"]
    if updates:  # ADJOINT_UPDATE_DOCS=1: write what adjoint generates today into the page
        with open(page) as source:
            text = source.read()
        text = BLOCK.sub(lambda m: m.group(0) if m.group("expr") not in updates else
                         f"<!-- generated: {m.group('expr')} -->\n```python\n{updates[m.group('expr')]}```", text)
        with open(page, "w") as out:
            out.write(text)


def test_table_of_supported_functions_is_current():
    """docs/rules.md is made from the rule table: regenerate it with `python -m adjoint.rules.table`."""
    from adjoint.rules import table
    with open(os.path.join(ROOT, "docs", "rules.md")) as page:
        assert page.read() == table.markdown(), "run: python -m adjoint.rules.table > docs/rules.md"
