"""The few plots the notebooks share. matplotlib is imported when a function runs."""

import numpy as np


def _axes(ax, figsize=(5, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history, *, axes=None):
    """Loss (left) and accuracy (right) per epoch from ``nnlib.train.fit``'s history."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = np.arange(1, len(history["loss"]) + 1)
    axes[0].plot(epochs, history["loss"], "o-", label="train")
    if history.get("val_loss"):
        axes[0].plot(epochs, history["val_loss"], "s--", label="validation")
    axes[0].set(xlabel="epoch", ylabel="loss", title="Loss")
    if history["acc"] and history["acc"][0] is not None:
        axes[1].plot(epochs, history["acc"], "o-", label="train")
        if history.get("val_acc"):
            axes[1].plot(epochs, history["val_acc"], "s--", label="validation")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
        axes[1].legend()
    axes[0].legend()
    from matplotlib.ticker import MaxNLocator

    for ax in axes[:2]:  # epochs are whole numbers: no ticks at 2.5, 7.5, ...
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return axes


def plot_decision_boundary(predict, X, y, *, ax=None, resolution=200, padding=0.5, title=None):
    """Shade the regions a 2-D classifier assigns to each class and scatter the data.

    predict: function (K, 2) -> (K,) labels or scores; X: (N, 2); y: (N,).
    """
    ax = _axes(ax)
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    z = np.asarray(predict(grid), dtype=float).reshape(gx.shape)
    ax.contourf(gx, gy, z, levels=20 if np.unique(z).size > 10 else None, cmap="RdBu", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolors="k", s=50)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title)
    return ax


def show_images(images, labels=None, *, predictions=None, ncols=10, class_names=None, size=1.2):
    """Grid of grayscale images (N, 28, 28) or (N, 784), titled with labels and predictions.

    A wrong prediction is titled in red as "pred (true)".
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    n = len(images)
    side = int(round(np.sqrt(images[0].size)))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    name = (lambda k: class_names[int(k)]) if class_names else (lambda k: str(int(k)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].reshape(side, side), cmap="gray_r")
        if predictions is not None:
            wrong = labels is not None and predictions[i] != labels[i]
            text = f"{name(predictions[i])} ({name(labels[i])})" if wrong else name(predictions[i])
            ax.set_title(text, fontsize=9, color="red" if wrong else "black")
        elif labels is not None:
            ax.set_title(name(labels[i]), fontsize=9)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, *, class_names=None, ax=None):
    """Heat map of a confusion matrix with the counts written in each cell."""
    ax = _axes(ax, figsize=(6, 5))
    k = cm.shape[0]
    im = ax.imshow(cm, cmap="Blues")
    ticks = np.arange(k)
    names = class_names or [str(i) for i in ticks]
    ax.set(xticks=ticks, yticks=ticks, xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true", title="Confusion matrix")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    return ax


def plot_reliability(table, *, ax=None):
    """Reliability diagram from ``nnlib.confidence.reliability``: accuracy per confidence bin.

    Bars on the diagonal mean a confidence of p is right a fraction p of the time;
    bars below it mean over-confidence. Bin counts are written above the bars.
    """
    ax = _axes(ax, figsize=(4, 3))
    centres, width = (table["lo"] + table["hi"]) / 2, table["hi"] - table["lo"]
    has = table["count"] > 0
    ax.bar(centres[has], table["accuracy"][has], width=width[has] * 0.9, color="C0",
           edgecolor="k", label="accuracy in bin")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    for x, a, n in zip(centres[has], table["accuracy"][has], table["count"][has]):
        ax.text(x, min(a, 0.97) + 0.02, str(n), ha="center", fontsize=6)
    ax.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="confidence (largest softmax probability)",
           ylabel="accuracy", title=f"Reliability, ECE = {table['ece']:.4f}")
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_automation_error(sweep, *, chosen=None, ax=None):
    """Error rate of accepted inputs against automation rate from ``confidence.threshold_sweep``.

    ``chosen``: an optional threshold, marked on the curve.
    """
    ax = _axes(ax, figsize=(4, 3))
    ax.plot(100 * sweep["automation"], 100 * sweep["error"], "-", color="C1")
    if chosen is not None:
        i = int(np.argmin(np.abs(sweep["threshold"] - chosen)))
        ax.plot(100 * sweep["automation"][i], 100 * sweep["error"][i], "o", color="C3",
                label=f"threshold {sweep['threshold'][i]:.3f}")
        ax.legend(fontsize=7)
    ax.set(xlabel="automation rate (% accepted)", ylabel="error of accepted (%)",
           title="Automation vs error")
    return ax


def plot_step_losses(curves, *, ax=None, smooth=20, logy=False, title="Loss per step"):
    """Per-step training losses of one or more runs, e.g. ``{"lr=0.1": history["batch_loss"]}``.

    curves: dict label -> sequence of losses (one per step). Each curve is drawn faintly as
    measured and, when ``smooth`` > 1, again as a running mean over ``smooth`` steps (the
    mean of the last ``smooth`` losses, fewer at the start), which shows the trend through
    the noise of single batches. ``logy`` puts the loss on a log scale.
    """
    ax = _axes(ax, figsize=(8, 3))
    for i, (label, losses) in enumerate(curves.items()):
        y = np.asarray(losses, dtype=np.float64)
        steps = np.arange(1, len(y) + 1)
        color = f"C{i % 10}"
        if smooth and smooth > 1 and len(y) > 1:
            ax.plot(steps, y, color=color, alpha=0.25, lw=0.8)
            c = np.cumsum(np.insert(y, 0, 0.0))  # c[j] = sum of the first j losses
            k = np.minimum(steps, int(smooth))     # window length at each step
            ax.plot(steps, (c[steps] - c[steps - k]) / k, color=color, lw=1.5, label=label)
        else:
            ax.plot(steps, y, color=color, lw=1.2, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="loss", title=title)
    ax.legend(fontsize=8)
    return ax


def plot_curves(curves, x=None, *, ax=None, styles=None, figsize=(8, 3), legend=None,
                **axes_set):
    """Several labelled curves on one axes: the line plot notebooks 00-05 draw again and again.

    curves: dict label -> y values, or label -> (x, y) for a curve with its own x values.
    x: the x values shared by the curves given as y only (default 1, 2, ..., len(y)).
    styles: optional dict label -> keyword arguments for ``ax.plot`` (fmt as key "fmt",
        e.g. ``{"target": {"fmt": "k", "lw": 3, "alpha": 0.3}}``).
    legend: keyword arguments for ``ax.legend`` (default ``fontsize=8``; e.g.
        ``{"ncol": 5}``), or False for no legend.
    axes_set: passed to ``ax.set`` (xlabel, ylabel, title, xscale, yscale, ylim, ...).
    Returns the axes, so callers can add markers, spans or text before ``plt.show()``.
    """
    from .errors import ConfigError

    if not isinstance(curves, dict) or not curves:
        raise ConfigError("plot_curves: curves must be a non-empty dict label -> y values "
                          "(or label -> (x, y)), e.g. {'train': losses}.")
    styles = {} if styles is None else styles
    unknown = set(styles) - set(curves)
    if unknown:
        raise ConfigError(f"plot_curves: styles name curves that are not plotted: "
                          f"{sorted(map(str, unknown))}; use the labels of curves.")
    ax = _axes(ax, figsize=figsize)
    for label, values in curves.items():
        if isinstance(values, tuple) and len(values) == 2 and np.ndim(values[0]) >= 1:
            cx, cy = np.asarray(values[0]), np.asarray(values[1])
        else:
            cy = np.asarray(values)
            cx = np.arange(1, len(cy) + 1) if x is None else np.asarray(x)
        if len(cx) != len(cy):
            raise ConfigError(f"plot_curves: curve {label!r} has {len(cy)} y values but "
                              f"{len(cx)} x values; pass x of the same length.")
        style = dict(styles.get(label, {}))
        fmt = style.pop("fmt", None)
        args = (cx, cy) if fmt is None else (cx, cy, fmt)
        ax.plot(*args, label=str(label), **style)
    if axes_set:
        ax.set(**axes_set)
    if legend is not False:
        ax.legend(**{"fontsize": 8, **(legend or {})})
    return ax



def setup(*, dpi=80, retina=True):
    """Inline figures as every course notebook shows them (its first cell calls this).

    dpi 80 keeps the stored notebooks small; ``retina`` stores PNGs with twice the
    pixels, shown at the same size, so lines and text stay sharp on high-resolution
    screens. Outside IPython only the dpi is set.
    """
    import matplotlib.pyplot as plt

    plt.rcParams["figure.dpi"] = dpi
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: no inline backend to configure
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina" if retina else "png")
