"""docs/notebooks/*.ipynb execute (nbclient) and show formulas as LaTeX."""

import pathlib
import sys

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[2] / "docs" / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    # The kernel is this interpreter (where chainrule is installed).
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.km_kwargs = {}
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    latex = [o["data"]["text/latex"] for o in outputs if "text/latex" in o.get("data", {})]
    assert any("x_{1}" in s or "x_1" in s or "x1" in s for s in latex), latex
    texts = "".join(o.get("text", "") for o in outputs) + "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "tensor(14.)" in texts
    assert "3.95221956372458" in texts  # the 4th derivative of tanh at 0.5 (f64, last digit may differ)
    # chainrule.graph shows as SVG and chainrule.explain as HTML tables.
    svgs = [o["data"]["image/svg+xml"] for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert any("f = tanh(h)" in s for s in svgs), "no graph drawn"
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("Reverse pass" in h and "<table>" in h for h in html), "no explain table"


def test_there_is_a_notebook():
    assert NOTEBOOKS, "docs/notebooks has no notebook"
    assert sys.version_info >= (3, 10)
