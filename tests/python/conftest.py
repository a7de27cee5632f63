"""Helpers for running notebook cells and comparing printed output."""

import contextlib
import io
import re

import pytest

NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")

IMPORTS = (
    "import chainrule.torch as torch\n"
    "import chainrule.torch.nn.functional as F\n"
    "import chainrule.sympy as sp\n"
    "import numpy as np\n"
)


def swap_imports(code):
    """The seed's code with only its import lines changed to chainrule's."""
    out = []
    for line in code.splitlines():
        s = line.strip()
        if s in ("import torch",):
            line = line.replace("import torch", "import chainrule.torch as torch")
        elif s == "import torch.nn.functional as F":
            line = line.replace("import torch.nn.functional as F", "import chainrule.torch.nn.functional as F")
        elif s == "import sympy as sp":
            line = line.replace("import sympy as sp", "import chainrule.sympy as sp")
        out.append(line)
    return "\n".join(out)


def run_cell(code, env=None, last_expr=False):
    """Executes a cell (imports swapped) and returns what it printed; with
    ``last_expr`` the repr of the last line's value is appended, as Jupyter shows it."""
    env = {} if env is None else env
    exec(IMPORTS, env)
    code = swap_imports(code)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        if last_expr:
            lines = code.rstrip().splitlines()
            exec("\n".join(lines[:-1]), env)
            print(repr(eval(lines[-1], env)))
        else:
            exec(code, env)
    return buf.getvalue()


def same_output(got, expected, rel=1e-6):
    """Equal text with numbers equal to ``rel`` relative (absolute 1e-12 near 0)."""
    g_nums, e_nums = NUM.findall(got), NUM.findall(expected)
    g_text, e_text = NUM.sub("#", got).split(), NUM.sub("#", expected).split()
    if g_text != e_text or len(g_nums) != len(e_nums):
        return False
    for sa, sb in zip(g_nums, e_nums):
        if sa == sb:
            continue
        # Short numbers (tensor(34.), 0.5000) are printed text: exact.
        # Long ones (float32 results) may differ in their last digits.
        if min(len(re.sub(r"\D", "", sa)), len(re.sub(r"\D", "", sb))) < 8:
            return False
        a, b = float(sa), float(sb)
        if abs(a - b) > rel * max(abs(a), abs(b)) + 1e-12:
            return False
    return True


@pytest.fixture
def check():
    def _check(got, expected, rel=1e-6):
        assert same_output(got, expected, rel), f"\n--- got ---\n{got}\n--- expected ---\n{expected}"

    return _check
