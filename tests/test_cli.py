"""The command line, `python -m adjoint show|check|compare|graph`: output, --help, exit codes, colour.

Starting Python costs ~0.4 s, so the subprocess runs are started together once (module fixture)
and the finer checks of argument handling call `adjoint.cli.main` in-process."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from adjoint import cli

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTIONS = os.path.join(HERE, "cli_functions.py")
ROOT = os.path.dirname(HERE)


def target(name):
    return f"{FUNCTIONS}:{name}"


def environment(**extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


LECTURE_VALUES = ["--value", "x=-2", "--value", "y=5", "--value", "z=-4"]
RUNS = {
    "show": ["show", target("neuron")],
    "check_scalars": ["check", target("neuron")],
    "check_wrong": ["check", target("wrong")],
    "compare": ["compare", target("layer"), "--shape", "x=3", "--shape", "W=4,3", "--budget", "0.002"],
    "missing_file": ["show", "no_such_file.py:f"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every RUNS command line (and a graph rendered to SVG), run at once: {key: CompletedProcess-like}."""
    svg = tmp_path_factory.mktemp("cli") / "f.svg"
    commands = dict(RUNS)
    if shutil.which("dot"):
        commands["graph_svg"] = ["graph", target("f"), *LECTURE_VALUES, "-o", str(svg)]
    processes = {key: subprocess.Popen([sys.executable, "-m", "adjoint", *argv], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=environment(), cwd=HERE)
                 for key, argv in commands.items()}
    results = {}
    for key, process in processes.items():
        out, err = process.communicate(timeout=60)
        results[key] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    results["svg_path"] = svg
    return results


# -- the subcommands, as a subprocess ------------------------------------------

def test_show_prints_the_gradient_source_plain_when_not_a_terminal(runs):
    run = runs["show"]
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("def grad_neuron(w0, x0, w1, x1, w2):")
    assert "grad_w0" in run.stdout and "math.exp" in run.stdout
    assert "\033[" not in run.stdout
    compile(run.stdout, "<show>", "exec")  # it is Python


def test_check_prints_error_per_argument_and_mode(runs):
    run = runs["check_scalars"]
    assert run.returncode == 0, run.stderr
    rows = [line.split() for line in run.stdout.splitlines() if line.split()[:1] in
            (["w0"], ["x0"], ["w1"], ["x1"], ["w2"]) and "=" not in line]
    assert [(r[0], r[1], r[-1]) for r in rows] == [(name, mode, "ok") for name in ("w0", "x0", "w1", "x1", "w2")
                                                    for mode in ("reverse", "forward")]
    assert all(float(r[2]) < 1e-6 for r in rows)
    assert "all gradients agree" in run.stdout


def test_check_exits_1_on_a_mismatch(runs):
    run = runs["check_wrong"]
    assert run.returncode == 1
    assert re.search(r"^x\s+reverse\s+MISMATCH$", run.stdout, re.M)
    assert "reverse-mode gradient of wrong wrt 'x'" in run.stdout


def test_compare_prints_the_report(runs):
    run = runs["compare"]
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("layer: R^15 -> R^1")
    assert re.search(r"^forward\s+15\s", run.stdout, re.M) and re.search(r"^reverse\s+1\s", run.stdout, re.M)
    assert "faster here:" in run.stdout


def test_graph_renders_svg(runs):
    if "graph_svg" not in runs:
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz)")
    run = runs["graph_svg"]
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"wrote {runs['svg_path']}"
    assert "<svg" in runs["svg_path"].read_text()


def test_missing_file_is_one_line_and_exit_2(runs):
    run = runs["missing_file"]
    assert run.returncode == 2
    assert run.stderr.splitlines() == ["python -m adjoint show: error: no such file: no_such_file.py"]


# -- help and argument errors, in-process ------------------------------------

@pytest.fixture
def main(monkeypatch, capsys):
    """`main(*argv)` -> (exit code, stdout, stderr), leaving sys.path and sys.modules as they were."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))

    def run(*argv):
        try:
            code = cli.main(list(argv))
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err
    return run


OPTIONS = {
    "show": ["--mode", "--wrt", "--ssa", "--example", "--value", "--color"],
    "check": ["--shape", "--value", "--seed", "--wrt"],
    "compare": ["--shape", "--value", "--seed", "--wrt", "--budget"],
    "graph": ["--shape", "--value", "--seed", "--wrt", "--output", "--digits"],
}


def test_show_forward_mode_specialised_for_an_example(main):
    code, out, _ = main("show", target("f"), "--mode", "forward", "--wrt", "x", "--example", "x=")
    assert code == 0
    assert out.startswith("def jvp_f(x, y, z, d_x):")
    assert "d_x * z" in out


def test_show_ssa(main):
    code, out, _ = main("show", target("f"), "--ssa")
    assert code == 0
    assert out.split() == "def f(x, y, z): q = x + y t1 = q * z return t1".split()


def test_check_with_array_shapes(main):
    code, out, _ = main("check", target("layer"), "--shape", "x=3", "--shape", "W=4,3", "--seed", "1")
    assert code == 0
    assert "x = array of shape (3,)" in out and "W = array of shape (4, 3)" in out
    assert re.search(r"^W\s+forward\s+\S+\s+ok$", out, re.M)


def test_graph_prints_dot_without_output_file(main):
    code, out, _ = main("graph", target("f"), *LECTURE_VALUES)
    assert code == 0
    assert out.startswith('digraph "f" {')
    for number in ("-2", "5", "-4", "3", "-12"):
        assert f">{number}</font>" in out


def test_top_level_help(main):
    code, out, _ = main("--help")
    assert code == 0
    for command in ("show", "check", "compare", "graph"):
        assert re.search(rf"^\s+{command}\s+\S", out, re.M)
    assert "python -m adjoint check model.py:loss --shape W=4,3" in out


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_subcommand_help_describes_every_option_with_an_example(main, command):
    code, out, _ = main(command, "--help")
    assert code == 0
    assert "FILE.py:FUNC" in out and "examples:" in out
    assert f"python -m adjoint {command} " in out.split("examples:")[1]
    for option in OPTIONS[command]:
        # each option is listed with a description after it
        assert re.search(rf"^\s+(-\w \S+, )?{option}\b.*\n?\s+\w", out, re.M), option


@pytest.mark.parametrize("argv, message", [
    (["check", "cli_functions.py"], "expected FILE.py:FUNCTION, got 'cli_functions.py'"),
    (["check", target("nope")], "has no function 'nope' (it defines: cube, f, layer, loop_count, neuron"),
    (["check", target("layer"), "--shape", "x"], "malformed --shape 'x': expected NAME=DIMS"),
    (["check", target("layer"), "--shape", "x=3,a"], "malformed --shape 'x=3,a': the dimensions must be"),
    (["check", target("layer"), "--shape", "W=-4,3"], "dimensions cannot be negative"),
    (["check", target("layer"), "--shape", "v=3"], "the function has no parameter 'v' (its parameters are x, W)"),
    (["check", target("layer"), "--shape", "x=3", "--shape", "x=4"], "--shape given twice for 'x'"),
    (["check", target("f"), "--wrt", "x,q"], "unknown --wrt 'q': f has parameters x, y, z"),
    (["show", target("f"), "--wrt", "w"], "unknown --wrt 'w'"),
    (["graph", target("f"), "--value", "x=two"], "malformed --value 'x=two'"),
    (["check", target("layer"), "--shape", "x=3", "--shape", "W=4,2"], "layer(x: array of shape (3,), W: "
                                                                      "array of shape (4, 2)) raised ValueError"),
    (["graph", target("f"), "-o", "f.txt"], "the picture is written as .svg, .png or .pdf"),
    (["show", target("f"), "--mode", "sideways"], "invalid choice: 'sideways'"),
    (["check"], "the following arguments are required: FILE.py:FUNC"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_arguments_print_one_line_and_exit_2(main, argv, message):
    code, out, err = main(*argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err


def test_adjoint_errors_print_the_message_and_exit_2(main):
    code, out, err = main("show", target("squares"))
    assert code == 2
    assert out == ""
    assert err.startswith("UnsupportedSyntax: adjoint does not support a set comprehension")
    assert "cli_functions.py" in err


def test_unknown_wrt_in_show_exits_2_not_a_traceback(main):
    code, _, err = main("show", target("layer"), "--wrt", "x,W,b")
    assert code == 2 and "unknown --wrt 'b'" in err


def test_graph_refuses_loops_with_exit_2(main):
    code, out, err = main("graph", target("pendulum"))
    assert code == 2 and out == ""
    assert err.startswith("UnsupportedSyntax: adjoint.graph draws straight-line code only")


def test_defaults_keep_their_value_and_are_not_checked(main):
    code, out, _ = main("check", target("scaled"), "--shape", "x=3")
    assert code == 0
    assert "n = 3" in out
    assert not re.search(r"^n\s+(reverse|forward)", out, re.M)


def test_value_reads_ints_as_ints_and_points_as_floats():
    params = ["n", "x", "v"]
    assert cli.parse_value("n=3", params) == ("n", 3) and type(cli.parse_value("n=3", params)[1]) is int
    assert cli.parse_value("x=3.0", params) == ("x", 3.0) and type(cli.parse_value("x=3.0", params)[1]) is float
    assert type(cli.parse_value("x=-1e-3", params)[1]) is float
    name, value = cli.parse_value("v=1,2.5", params)
    assert value.dtype == float and value.tolist() == [1.0, 2.5]
    assert cli.parse_value("v=0,2", params)[1].dtype.kind == "i"   # labels, indices


def test_an_int_the_function_counts_with_is_passed_as_an_int_and_not_checked(main):
    code, out, err = main("check", target("loop_count"), "--value", "n=3")
    assert code == 0, err
    assert "  n = 3\n" in out
    assert re.search(r"^x\s+reverse\s+\S+\s+ok$", out, re.M)
    assert not re.search(r"^n\s+(reverse|forward)", out, re.M)
    code, out, err = main("compare", target("loop_count"), "--value", "n=3", "--value", "x=0.5", "--budget", "0.002")
    assert code == 0 and out.startswith("loop_count: R^1 -> R^1"), err


def test_ints_the_function_takes_as_numbers_are_still_checked(main):
    code, out, _ = main("check", target("f"), *LECTURE_VALUES)
    assert code == 0 and "  x = -2\n" in out
    assert [line.split()[0] for line in out.splitlines() if line.endswith(" ok")] == ["x", "x", "y", "y", "z", "z"]


def test_show_specialises_on_a_value(main):
    code, out, err = main("show", target("power"), "--value", "n=3")
    assert code == 0, err
    assert out.startswith("def grad_power(x):") and " power(" not in out   # the recursion, unrolled for n = 3
    code, out, _ = main("show", target("power"), "--value", "n=2", "--mode", "forward")
    assert code == 0 and out.startswith("def jvp_power(x, d_x):")


def test_show_into_a_closed_pipe_exits_quietly():
    """`python -m adjoint show ... | head -1`: the reader goes away; no BrokenPipeError traceback."""
    process = subprocess.Popen([sys.executable, "-m", "adjoint", "show", target("pendulum")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment(), cwd=HERE)
    process.stdout.close()   # before it writes: its first write finds no reader
    _, err = process.communicate(timeout=60)
    assert err == b""
    assert process.returncode == cli.EXIT_BROKEN_PIPE


def test_scalar_shape_and_seed(main):
    _, first, _ = main("check", target("f"), "--shape", "x=", "--seed", "5")
    _, second, _ = main("check", target("f"), "--seed", "5")
    _, third, _ = main("check", target("f"), "--seed", "6")
    assert first == second != third
    assert re.search(r"^  x = -?\d+\.\d+$", first, re.M)


def test_graph_with_array_inputs_in_process(main, tmp_path):
    code, out, _ = main("graph", target("layer"), "--shape", "x=3", "--shape", "W=2,3", "--digits", "3")
    assert code == 0
    assert "array 2x3" in out and 'label="tanh"' in out


# -- colour ------------------------------------------------------------------

def test_highlight_colours_keywords_derivatives_and_numbers():
    text = "def grad_f(x, d_x):\n    grad_t = 2.0 * x  # note\n    return grad_t, d_x\n"
    coloured = cli.highlight(text)
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == text
    assert "\033[35mdef\033[0m" in coloured and "\033[35mreturn\033[0m" in coloured
    assert "\033[1mgrad_f\033[0m" in coloured
    assert "\033[31mgrad_t\033[0m" in coloured and "\033[34md_x\033[0m" in coloured
    assert "\033[36m2.0\033[0m" in coloured and "\033[90m# note\033[0m" in coloured
    assert cli.highlight("def (:\n") == "def (:\n"  # not Python: left alone


def test_colour_choice(monkeypatch):
    class Terminal:
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert cli.use_color("auto", Terminal()) and cli.use_color("always", sys.stdout)
    with open(os.devnull, "w") as devnull:
        assert not cli.use_color("auto", devnull) and not cli.use_color("never", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli.use_color("auto", Terminal()) and not cli.use_color("always", Terminal())


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [None, "1"])
def test_show_colours_on_a_terminal_unless_no_color(no_color):
    main_fd, child_fd = os.openpty()
    env = environment() if no_color is None else environment(NO_COLOR=no_color)
    env["TERM"] = "xterm"
    process = subprocess.Popen([sys.executable, "-m", "adjoint", "show", target("f"), "--ssa"],
                               stdout=child_fd, stderr=subprocess.PIPE, env=env, cwd=HERE)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert process.wait(timeout=60) == 0
    process.stderr.close()
    out = b"".join(chunks).decode()
    assert ("\033[35mdef\033[0m" in out) is (no_color is None)
    assert "\033[" not in out if no_color else "return" in out
