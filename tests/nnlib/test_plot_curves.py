"""nnlib.plot.plot_curves: labelled curves on one axes, with clear errors for bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib.errors import ConfigError  # noqa: E402
from nnlib.plot import plot_curves  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_shared_x_own_x_styles_and_axes_settings():
    x = np.linspace(0, 1, 5)
    ax = plot_curves({"a": x ** 2, "b": (np.arange(3), [3, 2, 1])}, x=x,
                     styles={"b": {"fmt": "o--", "color": "C3"}},
                     legend={"ncol": 2}, xlabel="x", title="t", yscale="log")
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["a", "b"]
    np.testing.assert_allclose(lines[0].get_xdata(), x)
    np.testing.assert_allclose(lines[1].get_xdata(), [0, 1, 2])
    assert lines[1].get_linestyle() == "--" and lines[1].get_marker() == "o"
    assert ax.get_xlabel() == "x" and ax.get_title() == "t" and ax.get_yscale() == "log"
    assert ax.get_legend().get_texts()[0].get_fontsize() == 8


def test_default_x_counts_from_one_and_existing_axes_is_used():
    fig, ax = plt.subplots()
    out = plot_curves({"loss": [3.0, 2.0, 1.0]}, ax=ax, legend=False)
    assert out is ax and ax.get_legend() is None
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])


@pytest.mark.parametrize("curves, kwargs, message", [
    ({}, {}, "non-empty dict"),
    ([1, 2], {}, "non-empty dict"),
    ({"a": [1, 2, 3]}, {"x": [0, 1]}, "3 y values but 2 x values"),
    ({"a": [1, 2]}, {"styles": {"b": {}}}, "not plotted"),
])
def test_bad_input_names_the_problem(curves, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        plot_curves(curves, **kwargs)
