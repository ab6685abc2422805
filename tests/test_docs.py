"""The docs cannot rot: every Python block in README.md and docs/*.md runs, every block of
generated code (marked `<!-- generated: EXPR -->`) is exactly what adjoint generates today, and
the output shown under a block (a `text` block right after it) is what it prints today, unless
marked `<!-- output varies -->` (timings). The script's path in an error reads as `example.py`.
After a change to the generated code, `ADJOINT_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`
rewrites those blocks; read the diff before committing it."""
import glob
import os
import re
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
BLOCK = re.compile(r"(?:<!-- generated: (?P<expr>.+?) -->\n)?```python\n(?P<code>.*?)```"
                   r"(?:\n\n(?P<varies><!-- output varies -->\n)?```text\n(?P<output>.*?)```)?", re.S)


def script_for(page):
    """The page's Python blocks as one script; generated blocks become comparisons."""
    lines = ["import os",
             "UPDATES = {}",
             "def _same(expression, got, expected):",
             "    if os.environ.get('ADJOINT_UPDATE_DOCS'):",
             "        UPDATES[expression] = got.strip() + '\\n'",
             "        return",
             "    assert got.strip() == expected.strip(), f'{expression} now gives:\\n{got}'",
             "import io, sys",
             "_SHOWN = []",
             "def _capture():",
             "    _SHOWN.append(sys.stdout)",
             "    sys.stdout = io.StringIO()",
             "def _printed(expected, line):",
             "    got, sys.stdout = sys.stdout.getvalue(), _SHOWN.pop()",
             "    got = _located(got.replace(__file__, 'example.py'))",
             "    assert got.strip() == _located(expected).strip(), f'the block before line {line} now prints:\\n{got}'",
             "def _located(text):  # `example.py\", line N`: the docs' line, not the script's",
             "    import re",
             "    return re.sub(r'(example\\.py\"?, line )\\d+', r'\\1N', text)", ""]
    with open(page) as source:
        text = source.read()
    for match in BLOCK.finditer(text):
        if match.group("expr"):
            expr = match.group("expr")
            lines.append(f"_same({expr!r}, {expr}, {match.group('code')!r})")
            continue
        shown = match.group("output") is not None and not match.group("varies")
        if shown:  # the output printed under the block is what the block prints today
            lines.append("_capture()")
        lines.append(match.group("code"))
        if shown:
            line = text.count("\n", 0, match.start("output"))
            lines.append(f"_printed({match.group('output')!r}, {line})")
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


def test_prose_quoting_generated_code_quotes_what_the_block_shows(tmp_path):
    """api.md's defvjp section says where the rule's expression went: the code its example generates
    today (shown with a path that varies, so not compared above) has it."""
    with open(os.path.join(ROOT, "docs", "api.md")) as page:
        text = page.read()
    before, after = text.split("The rule's expression is there as ", 1)
    example = before.rsplit("```python\n", 1)[1].split("```", 1)[0]
    quoted = re.match(r"`([^`]+)`", after).group(1)
    script = tmp_path / "defvjp_example.py"
    script.write_text("import numpy as np\nimport adjoint\n\n" + example)
    namespace = runpy.run_path(str(script))   # (prints the gradient and the code)
    generated = namespace["adjoint"].source(namespace["d_log_partition"], namespace["w"], namespace["features"])
    assert quoted in generated, (quoted, generated)
