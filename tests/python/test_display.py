"""chainrule.graph and chainrule.explain: the computational graph as SVG and
the forward and reverse sweeps as HTML, for Jupyter (issue 15, item 5)."""

import pytest

import chainrule
import chainrule.sympy as sp

Q6 = "tanh(log(1 + z*(2*x)/sin(y)))"


def test_graph_is_svg_for_jupyter():
    g = chainrule.graph("1/(1+exp(-x))", at={"x": 2})
    svg = g._repr_svg_()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    # Seed 002's sigmoid, node by node.
    for text in ["a = -x", "b = exp(a)", "c = 1 + b", "f = 1/c", "x (input)", "∂a/∂x = -1"]:
        assert text in svg, text
    # Seed 002 prints manual: 0.1049935854035065.
    assert g.gradient["x"] == pytest.approx(0.1049935854035065, rel=1e-15)
    assert g.value == pytest.approx(1 / (1 + 2.718281828459045 ** -2), rel=1e-15)
    assert "chainrule.Graph" in repr(g) and "∂f/∂x" in repr(g)
    assert g.dot.startswith("digraph chainrule {")


def test_graph_of_seed_001_q6_has_the_seed_gradient():
    g = chainrule.graph(Q6, x=1, y=2, z=3)
    # Seed 001 Q6 prints df/dx=0.0581308218679247 df/dy=0.02660400976902784
    # df/dz=0.019376940622641566.
    assert g.gradient["x"] == pytest.approx(0.0581308218679247, rel=1e-14)
    assert g.gradient["y"] == pytest.approx(0.02660400976902784, rel=1e-14)
    assert g.gradient["z"] == pytest.approx(0.019376940622641566, rel=1e-14)
    names = [n[0] for n in g.nodes if n[1] == "op"]
    assert names[-1] == "f" and not set(names) & {"x", "y", "z"}


def test_graph_saves_svg_and_dot(tmp_path):
    g = chainrule.graph("x*y + sin(x)", at={"x": 1, "y": 2})
    g.save(tmp_path / "g.svg")
    g.save(tmp_path / "g.dot")
    assert (tmp_path / "g.svg").read_text(encoding="utf-8").startswith("<svg")
    assert " -> " in (tmp_path / "g.dot").read_text(encoding="utf-8")


def test_explain_is_an_html_table_and_text():
    e = chainrule.explain("1/(1+exp(-x))", at={"x": 2})
    html = e._repr_html_()
    assert html.count("<table>") == 3
    assert "Forward pass" in html and "Reverse pass" in html
    assert "<code>exp(a)</code>" in html
    text = repr(e)
    assert text.startswith("f = 1/(1+exp(-x))   at x = 2\n")
    assert "b  =  exp(a)" in text
    assert str(e) == text
    # d/dx of x*x + x at 3 is 2x + 1 = 7; x*x is one user of x, its local derivative 3 + 3.
    e = chainrule.explain("x*x + x", x=3)
    assert e.gradient == {"x": 7.0}
    assert "∂a/∂x = 3 + 3 = 6 (a uses x 2 times)" in e.text


def test_sympy_formulas_and_symbols_are_accepted():
    x, y = sp.symbols("x y")
    g = chainrule.graph(x**2 * y, at={x: 3, y: 2})
    assert g.gradient == {"x": 12.0, "y": 9.0}


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="'y'"):
        chainrule.graph("x*y", at={"x": 1})
    with pytest.raises(ValueError):
        chainrule.explain("x +", at={"x": 1})


def test_a_40_node_graph_reads_at_900_px():
    src = (
        "exp((0.2*x1 + 0.4*x2 + 0.1*x3)/t)/(exp((0.2*x1 + 0.4*x2 + 0.1*x3)/t)"
        " + exp((-0.5*x1 + 0.1*x2 + 0.3*x3)/t) + exp((0.3*x1 - 0.2*x2 + 0.2*x3)/t))"
    )
    g = chainrule.graph(src, at={"x1": 1, "x2": 2, "x3": 3, "t": 1})
    assert len(g.nodes) > 40
    width = float(g.svg.split('width="')[1].split('"')[0])
    assert width <= 900
    # With t = 1 this is seed 003's softmax: the gradient it prints.
    for name, want in zip(["x1", "x2", "x3"], [0.07993404, 0.1105411, -0.03809503]):
        assert g.gradient[name] == pytest.approx(want, abs=1e-7)
