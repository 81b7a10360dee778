"""mlpcore.plot: every picture is written as a real PNG and shows exactly the numbers it claims.

The content checks read the figure back (line data, texts, image pixels, legends) and compare
with independent computations: the History lists, mlpcore.metrics and scikit-learn for the
curves and the confusion matrix, the model's own predictions on the grid, numpy means over the
sweep rows.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from _helpers import mnist_dir

pytest.importorskip("matplotlib")

import matplotlib.image
import mlpcore
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from mlpcore import metrics, plot
from mlpcore.data import load_mnist, make_spiral

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path, fig: Figure) -> None:
    """A real PNG of the figure's size in pixels (figsize × dpi), with some content."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 5000, f"{path} is suspiciously small ({len(data)} bytes)"
    pixels = matplotlib.image.imread(path)
    width, height = fig.get_size_inches() * plot._DPI
    # The canvas is truncated to whole pixels, so a fractional size loses up to one.
    assert pixels.shape[2] == 4 and abs(pixels.shape[0] - height) < 1 and abs(pixels.shape[1] - width) < 1
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def line(ax, label):
    found = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(found) == 1, f"expected one line labelled {label!r}, got {[ln.get_label() for ln in ax.get_lines()]}"
    return found[0]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def spiral():
    """A 2-32-32-2 tanh network fitted on a one-turn spiral (it reaches 99% training accuracy)."""
    X, y = make_spiral(200, 2, turns=1.0, noise=0.05, seed=0)
    X = 3.0 * X  # unit-scale spiral is slow to separate with tanh units at this lr
    model = mlpcore.MLP([2, 32, 32, 2], activation="tanh", seed=0)
    mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1, momentum=0.9), epochs=400, batch_size=16, seed=0,
                verbose=False)
    assert np.mean(model.predict(X) == y) >= 0.97
    return model, X, y


@pytest.fixture(scope="module")
def early_stopped_history():
    X, y = make_spiral(300, 3, turns=1.0, noise=0.1, seed=1)
    model = mlpcore.MLP([2, 16, 3], activation="tanh", seed=1)
    history = mlpcore.fit(model, 3 * X, y, optimizer=mlpcore.SGD(lr=0.3, momentum=0.9), epochs=200, batch_size=32,
                          validation_split=0.3, early_stopping=mlpcore.EarlyStopping(patience=5), seed=1,
                          verbose=False)
    assert history.stopped_early and 0 < history.best_epoch < history.epochs - 1
    return history


@pytest.fixture
def binary(rng):
    y = rng.integers(0, 2, 400)
    return y, {"good": y + rng.normal(0, 0.7, 400), "weak": y + rng.normal(0, 2.0, 400)}


def sweep_rows(rng, values, seeds=3, test=True):
    rows = []
    for seed in range(seeds):
        for v in values:
            units = sum(v) if isinstance(v, tuple) else v
            train = float(np.exp(-units / 10) + 0.02 * rng.random())
            val = float(train + 0.05 + 0.002 * units + 0.02 * rng.random())
            rows.append({"hidden": v, "train_loss": train * 2, "val_loss": val * 2,
                         "test_loss": val * 2.1 if test else None, "train_score": 1 - train, "val_score": 1 - val,
                         "test_score": 1 - 1.05 * val if test else None, "seed": seed, "seconds": 0.1})
    return rows


# --------------------------------------------------------------------------- learning curves


def test_learning_curves_show_history_lists_and_best_epoch(early_stopped_history, tmp_path):
    h = early_stopped_history
    fig = plot.learning_curves(h, path=tmp_path / "curves.png", title="spiral")
    assert isinstance(fig, Figure)
    assert_png(tmp_path / "curves.png", fig)
    loss_ax, acc_ax = fig.axes
    epochs = np.arange(1, h.epochs + 1)
    for ax, train, val in ((loss_ax, h.train_loss, h.val_loss), (acc_ax, h.train_accuracy, h.val_accuracy)):
        np.testing.assert_array_equal(line(ax, "train").get_xdata(), epochs)
        np.testing.assert_array_equal(line(ax, "train").get_ydata(), train)
        np.testing.assert_array_equal(line(ax, "validation").get_ydata(), val)
        best = line(ax, f"best epoch ({h.best_epoch + 1}), stopped early")
        np.testing.assert_array_equal(best.get_xdata(), [h.best_epoch + 1] * 2)
    ring = line(loss_ax, "_best")
    assert ring.get_xdata()[0] == h.best_epoch + 1 and ring.get_ydata()[0] == h.val_loss[h.best_epoch]
    assert h.val_loss[h.best_epoch] == min(h.val_loss)
    assert fig._suptitle.get_text() == "spiral"


def test_learning_curves_dict_without_validation_or_accuracy_has_one_panel(tmp_path):
    history = {"train_loss": [2.0, 1.5, 1.2, 1.1], "val_loss": [], "best_epoch": None}
    fig = plot.learning_curves(history, path=str(tmp_path / "loss.png"))
    assert_png(tmp_path / "loss.png", fig)
    (ax,) = fig.axes
    assert [ln.get_label() for ln in ax.get_lines()] == ["train"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), history["train_loss"])


@pytest.mark.parametrize("library", ["mlpcore", "sklearn"])
def test_learning_curves_of_a_fitted_estimator(library, tmp_path):
    """A fitted MLP estimator's curves: loss_curve_, and with early stopping the validation
    scores in a second panel, the best epoch that of the best score; without early stopping one
    panel, the best epoch that of the lowest loss."""
    pytest.importorskip("sklearn")
    import warnings

    from sklearn import neural_network

    module = mlpcore if library == "mlpcore" else neural_network
    X, y = make_spiral(300, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached, as intended
        stopped = module.MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=3, learning_rate_init=0.05,
                                       max_iter=200, random_state=0).fit(X, y)
        plain = module.MLPRegressor(hidden_layer_sizes=(8,), max_iter=15, random_state=0).fit(X, y.astype(float))
    fig = plot.learning_curves(stopped, path=tmp_path / "stopped.png")
    assert_png(tmp_path / "stopped.png", fig)
    loss_ax, score_ax = fig.axes
    np.testing.assert_array_equal(line(loss_ax, "train").get_ydata(), stopped.loss_curve_)
    np.testing.assert_array_equal(line(score_ax, "validation").get_ydata(), stopped.validation_scores_)
    best = int(np.argmax(stopped.validation_scores_))
    assert stopped.n_iter_ < 200
    line(score_ax, f"best epoch ({best + 1}), stopped early")
    assert score_ax.get_title() == "validation accuracy"
    fig = plot.learning_curves(plain)
    (ax,) = fig.axes
    np.testing.assert_array_equal(line(ax, "train").get_ydata(), plain.loss_curve_)
    line(ax, f"best epoch ({int(np.argmin(plain.loss_curve_)) + 1})")  # max_iter ran: not stopped early
    # partial_fit calls count one epoch each in n_iter_: not stopped early either
    online = module.MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        online.partial_fit(X, y.astype(float))
    (ax,) = plot.learning_curves(online).axes
    line(ax, f"best epoch ({int(np.argmin(online.loss_curve_)) + 1})")


def test_learning_curves_dict_with_validation_scores_only():
    """A dict of a loss curve and validation scores (no train accuracy): the scores are drawn
    against the same epochs."""
    history = {"train_loss": [2.0, 1.5, 1.2], "val_accuracy": [0.5, 0.7, 0.6], "best_epoch": 1}
    loss_ax, acc_ax = plot.learning_curves(history).axes
    np.testing.assert_array_equal(line(acc_ax, "validation").get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match=r"learning_curves: history.val_accuracy must be empty or have one value "
                                         r"per epoch like history.train_loss \(3\) \(got 2\)"):
        plot.learning_curves({**history, "val_accuracy": [0.5, 0.7]})


def test_learning_curves_into_given_axes_draws_only_the_loss(early_stopped_history):
    fig = Figure()
    ax = fig.subplots(1, 2)[1]
    assert plot.learning_curves(early_stopped_history, ax=ax, title="mine") is fig
    assert len(fig.axes) == 2 and not fig.axes[0].get_lines()
    assert ax.get_ylabel() == "loss" and ax.get_title() == "mine"
    np.testing.assert_array_equal(line(ax, "train").get_ydata(), early_stopped_history.train_loss)


# --------------------------------------------------------------------------- ROC and PR


def test_roc_curve_draws_metrics_curves_and_auc_in_legend(binary, tmp_path):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    y, scores = binary
    fig = plot.roc_curve(y, scores, path=tmp_path / "roc.png", title="ROC")
    assert_png(tmp_path / "roc.png", fig)
    (ax,) = fig.axes
    for name, s in scores.items():
        auc = metrics.roc_auc(y, s)
        assert auc == pytest.approx(sklearn_metrics.roc_auc_score(y, s), abs=1e-12)
        drawn = line(ax, f"{name} (AUROC = {auc:.3f})")
        fpr, tpr, _ = metrics.roc_curve(y, s)
        np.testing.assert_array_equal(drawn.get_xdata(), fpr)
        np.testing.assert_array_equal(drawn.get_ydata(), tpr)
    chance = line(ax, "chance (AUROC = 0.5)")
    np.testing.assert_array_equal(chance.get_xydata(), [[0, 0], [1, 1]])
    assert ax.get_title() == "ROC"


def test_roc_curve_single_array_with_string_labels_and_pos_label(binary):
    y, scores = binary
    names = np.where(y == 1, "spam", "ham")
    fig = plot.roc_curve(names, scores["good"], pos_label="spam")
    auc = metrics.roc_auc(y, scores["good"])
    assert legend_texts(fig.axes[0])[0] == f"AUROC = {auc:.3f}"
    with pytest.raises(ValueError, match=r"roc_curve: y_true has labels \['ham', 'spam'\], so pos_label must be given"):
        plot.roc_curve(names, scores["good"])


def test_multiclass_scores_give_one_vs_rest_curves_and_their_micro_average(tmp_path):
    """2-D scores (predict_proba): a curve per class, y == c against column c, and the
    micro-average over every (sample, class) pair, with the AUCs scikit-learn computes."""
    skm = pytest.importorskip("sklearn.metrics")
    from sklearn.preprocessing import label_binarize

    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 300)
    proba = rng.dirichlet(np.ones(4), 300) + 0.6 * np.eye(4)[y] * rng.random((300, 1))
    labels = np.array(["w", "x", "y", "z"])
    onehot = label_binarize(y, classes=np.arange(4))
    fig = plot.roc_curve(labels[y], proba, path=tmp_path / "roc.png")
    assert_png(tmp_path / "roc.png", fig)
    (ax,) = fig.axes
    for c in range(4):
        auc = skm.roc_auc_score(onehot[:, c], proba[:, c])
        fpr, tpr, _ = metrics.roc_curve(onehot[:, c], proba[:, c])
        curve = line(ax, f"class {str(labels[c])!r} (AUROC = {auc:.3f})")
        np.testing.assert_array_equal(curve.get_xdata(), fpr)
        np.testing.assert_array_equal(curve.get_ydata(), tpr)
    micro = skm.roc_auc_score(onehot, proba, average="micro")
    assert line(ax, f"micro-average (AUROC = {micro:.3f})").get_linewidth() > 2
    fig = plot.precision_recall_curve(y, proba, classes=[0, 1, 2, 3])
    (ax,) = fig.axes
    for c in range(4):
        line(ax, f"class {c} (AP = {skm.average_precision_score(onehot[:, c], proba[:, c]):.3f})")
    line(ax, f"micro-average (AP = {skm.average_precision_score(onehot, proba, average='micro'):.3f})")
    # A class absent from y_true has no curve; the others and the micro-average remain.
    present = y != 2
    labels_drawn = [ln.get_label() for ln in plot.roc_curve(y[present], proba[present], classes=[0, 1, 2, 3]).axes[0].get_lines()]
    assert [t.split(" (")[0] for t in labels_drawn] == ["class 0", "class 1", "class 3", "micro-average", "chance"]


def test_precision_recall_curve_steps_enclose_average_precision(binary, tmp_path):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    y, scores = binary
    fig = plot.precision_recall_curve(y, scores, path=tmp_path / "pr.png")
    assert_png(tmp_path / "pr.png", fig)
    (ax,) = fig.axes
    for name, s in scores.items():
        ap = metrics.average_precision(y, s)
        assert ap == pytest.approx(sklearn_metrics.average_precision_score(y, s), abs=1e-12)
        drawn = line(ax, f"{name} (AP = {ap:.3f})")
        precision, recall, _ = metrics.precision_recall_curve(y, s)
        np.testing.assert_array_equal(drawn.get_xdata(), recall)
        np.testing.assert_array_equal(drawn.get_ydata(), precision)
        assert drawn.get_drawstyle() == "steps-post"
        # The area under the drawn steps is the legend's AP.
        area = -np.sum(np.diff(drawn.get_xdata()) * drawn.get_ydata()[:-1])
        assert area == pytest.approx(ap, abs=1e-12)
    baseline = line(ax, f"chance (positive rate = {y.mean():.3f})")
    np.testing.assert_array_equal(baseline.get_ydata(), [y.mean()] * 2)


# --------------------------------------------------------------------------- confusion matrix


def test_confusion_matrix_annotations_are_the_counts(rng, tmp_path):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    y = rng.integers(0, 4, 300)
    pred = np.where(rng.random(300) < 0.7, y, rng.integers(0, 4, 300))
    fig = plot.confusion_matrix(y, pred, path=tmp_path / "cm.png", title="counts")
    assert_png(tmp_path / "cm.png", fig)
    ax = fig.axes[0]
    expected = sklearn_metrics.confusion_matrix(y, pred)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells == {(i, j): str(expected[i, j]) for i in range(4) for j in range(4)}
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)  # true classes on the rows
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted label", "true label")


def test_confusion_matrix_normalized_rows_and_empty_class(tmp_path):
    y = ["cat", "cat", "dog", "dog", "dog", "cat"]
    pred = ["cat", "dog", "dog", "dog", "cat", "cat"]
    labels = ["dog", "cat", "bird"]  # bird never occurs: its row is undefined
    fig = plot.confusion_matrix(y, pred, labels=labels, normalize=True, path=tmp_path / "cmn.png")
    assert_png(tmp_path / "cmn.png", fig)
    ax = fig.axes[0]
    counts = metrics.confusion_matrix(y, pred, labels=labels)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    for i in range(2):
        for j in range(3):
            assert cells[(i, j)] == f"{counts[i, j] / counts[i].sum():.2f}"
    assert [cells[(2, j)] for j in range(3)] == ["n/a"] * 3
    assert [t.get_text() for t in ax.get_yticklabels()] == labels


# --------------------------------------------------------------------------- decision boundary


def grid_of(X, resolution):
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (hi - lo)
    gx = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    gy = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    return gx, gy, np.column_stack([xx.ravel(), yy.ravel()])


def test_decision_boundary_pixels_are_the_models_predictions(spiral, tmp_path):
    model, X, y = spiral
    resolution = 60
    fig = plot.decision_boundary(model, X, y, resolution=resolution, path=tmp_path / "db.png", title="spiral")
    assert_png(tmp_path / "db.png", fig)
    ax = fig.axes[0]
    gx, gy, grid = grid_of(X, resolution)
    image = ax.images[0].get_array()
    assert image.shape == (resolution, resolution, 4)
    palette = np.asarray(matplotlib.colormaps["tab10"].colors)
    predicted = model.predict(grid).reshape(resolution, resolution)
    np.testing.assert_array_equal(image[..., :3], palette[predicted])  # row i is gy[i]: origin="lower"
    top = model.predict_proba(grid).max(axis=1).reshape(resolution, resolution)
    np.testing.assert_allclose(image[..., 3], 0.12 + 0.53 * (2 * top - 1), rtol=1e-6)
    assert ax.get_xlim() == (gx[0], gx[-1]) and ax.get_ylim() == (gy[0], gy[-1])
    # Both classes are predicted somewhere, so the boundary is drawn; points keep their class colour.
    assert len(set(predicted.ravel())) == 2 and ax.collections[0].get_paths()
    for c in (0, 1):
        points = [s for s in ax.collections if s.get_label() == str(c)]
        assert len(points) == 1
        np.testing.assert_array_equal(points[0].get_offsets(), X[y == c])
        np.testing.assert_allclose(points[0].get_facecolor()[0, :3], palette[c])


class NearestCentroid:
    """A classifier with predict only (no probabilities): the class of the nearest class mean."""

    def __init__(self, X, y):
        self.classes = np.unique(y)
        self.centres = np.array([X[y == c].mean(axis=0) for c in self.classes])

    def predict(self, X):
        distances = ((X[:, None, :] - self.centres[None]) ** 2).sum(axis=2)
        return self.classes[distances.argmin(axis=1)]


def test_decision_boundary_predict_only_model_with_string_labels(tmp_path):
    X, y_int = mlpcore.data.make_blobs(150, centers=3, seed=4)
    y = np.array(["a", "b", "c"])[y_int]
    model = NearestCentroid(X, y)
    fig = plot.decision_boundary(model, X, y, resolution=40, path=tmp_path / "nc.png")
    assert_png(tmp_path / "nc.png", fig)
    image = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(image[..., 3], 0.4)  # flat fill without predict_proba
    _, _, grid = grid_of(X, 40)
    palette = np.asarray(matplotlib.colormaps["tab10"].colors)
    codes = np.searchsorted(["a", "b", "c"], model.predict(grid)).reshape(40, 40)
    np.testing.assert_array_equal(image[..., :3], palette[codes])
    assert legend_texts(fig.axes[0]) == ["a", "b", "c"]


# --------------------------------------------------------------------------- sweep


def test_sweep_plots_means_and_min_max_bands_on_a_log_axis(rng, tmp_path):
    values = [(1,), (2,), (4,), (16,), (64,), (256,)]
    rows = sweep_rows(rng, values)
    fig = plot.sweep(rows, "hidden", path=tmp_path / "sweep.png", title="capacity")
    assert_png(tmp_path / "sweep.png", fig)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"  # 1 to 256 spans more than a factor of 100
    units = np.array([v[0] for v in values], dtype=float)
    bands = [c for c in ax.collections if c.get_label() == "_band"]
    assert len(bands) == 3
    val_means = None
    for (label, key), band in zip((("train", "train_score"), ("validation", "val_score"), ("test", "test_score")),
                                  bands):
        errors = {v: [1 - r[key] for r in rows if r["hidden"] == v] for v in values}
        drawn = line(ax, label)
        np.testing.assert_array_equal(drawn.get_xdata(), units)
        np.testing.assert_allclose(drawn.get_ydata(), [np.mean(errors[v]) for v in values], rtol=1e-14)
        vertices = band.get_paths()[0].vertices
        for u, v in zip(units, values):
            ys = vertices[np.isclose(vertices[:, 0], u), 1]
            assert ys.min() == pytest.approx(min(errors[v]), rel=1e-14)
            assert ys.max() == pytest.approx(max(errors[v]), rel=1e-14)
        if label == "validation":
            val_means = drawn.get_ydata()
    best = units[np.argmin(val_means)]
    marker = line(ax, f"best validation (hidden = {best:g})")
    np.testing.assert_array_equal(marker.get_xdata(), [best, best])


def test_sweep_loss_metric_single_seed_linear_axis_and_no_test(rng):
    rows = sweep_rows(rng, [2, 4, 6, 8], seeds=1, test=False)
    fig = plot.sweep(rows, "hidden", metric="loss")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear" and ax.get_ylabel() == "loss"
    assert [ln.get_label() for ln in ax.get_lines()][:2] == ["train", "validation"]
    assert not ax.collections  # one run per value: no band
    np.testing.assert_array_equal(line(ax, "validation").get_ydata(), [r["val_loss"] for r in rows])
    assert all(ln.get_label() != "test" for ln in ax.get_lines())


def test_sweep_weight_decay_with_zero_uses_symlog_and_score_metric():
    decays = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
    rows = [{"weight_decay": d, "train_score": 0.99 - 3 * d, "val_score": 0.9 + d, "seed": 0} for d in decays]
    fig = plot.sweep(rows, "weight_decay", metric="score")
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog"
    low, high = ax.get_xlim()
    assert -1e-5 < low < 0 and high > max(decays)  # only a sliver of the (empty) negative side
    np.testing.assert_array_equal(line(ax, "validation").get_ydata(), [0.9 + d for d in decays])
    assert plot.sweep(rows, "weight_decay", log_x=False).axes[0].get_xscale() == "linear"


def test_sweep_deep_architectures_are_categories_in_order_of_appearance(rng):
    values = [(10,), (10, 10), (), (20, 20, 20)]
    rows = sweep_rows(rng, values, seeds=2)
    fig = plot.sweep(rows, "hidden", metric="score")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "10-10", "none", "20-20-20"]
    np.testing.assert_array_equal(line(ax, "train").get_xdata(), [0, 1, 2, 3])
    expected = [np.mean([r["train_score"] for r in rows if r["hidden"] == v]) for v in values]
    np.testing.assert_allclose(line(ax, "train").get_ydata(), expected, rtol=1e-14)


# --------------------------------------------------------------------------- digits


def test_digits_grid_of_any_scale_with_wrong_predictions_in_red(rng, tmp_path):
    images = rng.normal(5.0, 3.0, size=(23, 28, 28))
    labels = rng.integers(0, 10, 23)
    predicted = labels.copy()
    predicted[[1, 4, 9]] = (labels[[1, 4, 9]] + 1) % 10
    fig = plot.digits(images, labels, predicted, n_cols=6, max_images=20, path=tmp_path / "d.png", title="digits")
    assert_png(tmp_path / "d.png", fig)
    assert len(fig.axes) == 20
    for i, ax in enumerate(fig.axes):
        shown = ax.images[0]
        np.testing.assert_array_equal(shown.get_array(), images[i])
        assert shown.get_clim() == (images[:20].min(), images[:20].max())  # one grey scale for all
        wrong = i in (1, 4, 9)
        assert ax.get_title() == f"{labels[i]} (pred {predicted[i]})"
        assert to_rgb(ax.title.get_color()) == to_rgb("red" if wrong else "black")
    assert fig.axes[6].get_position().y0 < fig.axes[0].get_position().y0  # 6 per row


def test_digits_flat_rows_labels_only_and_custom_shape():
    images = np.arange(3 * 12, dtype=float).reshape(3, 12)
    fig = plot.digits(images, labels=["x", "y", "z"], shape=(3, 4))
    assert [ax.get_title() for ax in fig.axes] == ["x", "y", "z"]
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), images[2].reshape(3, 4))
    fig = plot.digits(images, predicted=[1, 2, 3], shape=(3, 4))
    assert [ax.get_title() for ax in fig.axes] == ["pred 1", "pred 2", "pred 3"]



def test_digits_real_mnist_with_softmax_regression_predictions(tmp_path):
    directory = mnist_dir()
    if not any((directory / f"t10k-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
        pytest.skip(f"real MNIST test set not found in {directory} (set MLPCORE_MNIST_DIR)")
    X, y = load_mnist(directory, subset="test")
    model = mlpcore.MLP([784, 10], seed=0)
    mlpcore.fit(model, X[:3000], y[:3000], optimizer=mlpcore.SGD(lr=0.1), epochs=3, batch_size=64, seed=0,
                verbose=False)
    X_show, y_show = X[3000:3050], y[3000:3050]
    predicted = model.predict(X_show)
    assert 0.7 < np.mean(predicted == y_show) < 1.0  # a real classifier that makes some mistakes
    fig = plot.digits(X_show, y_show, predicted, path=tmp_path / "mnist.png", title="MNIST")
    assert_png(tmp_path / "mnist.png", fig)
    assert len(fig.axes) == 50
    red = [to_rgb(ax.title.get_color()) == to_rgb("red") for ax in fig.axes]
    np.testing.assert_array_equal(red, predicted != y_show)
    np.testing.assert_array_equal(fig.axes[7].images[0].get_array(), X_show[7].reshape(28, 28))


# --------------------------------------------------------------------------- files, threads, no pyplot


def test_path_rules(tmp_path):
    history = {"train_loss": [1.0, 0.5]}
    fig = plot.learning_curves(history, path=tmp_path / "UPPER.PNG")
    assert_png(tmp_path / "UPPER.PNG", fig)
    with pytest.raises(ValueError, match=r"learning_curves: path must end in \.png, the only format written \(got '.*curves\.pdf'\)"):
        plot.learning_curves(history, path=str(tmp_path / "curves.pdf"))
    with pytest.raises(ValueError, match=r"learning_curves: path must end in \.png"):
        plot.learning_curves(history, path=tmp_path / "curves")
    with pytest.raises(FileNotFoundError, match=r"learning_curves: the directory of path does not exist .*missing"):
        plot.learning_curves(history, path=tmp_path / "missing" / "c.png")
    assert not (tmp_path / "missing").exists()
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"learning_curves: path is a directory \(.*folder\.png'\)"):
        plot.learning_curves(history, path=tmp_path / "folder.png")
    with pytest.raises(TypeError, match=r"learning_curves: path must be a str or os.PathLike \(got int 3\)"):
        plot.learning_curves(history, path=3)
    with pytest.raises(TypeError, match=r"learning_curves: path must be a str or os.PathLike"):
        plot.learning_curves(history, path=b"c.png")


def test_same_input_same_png_bytes_from_threads(rng, tmp_path):
    rows = sweep_rows(rng, [1, 3, 10, 30, 100, 300])
    plot.sweep(rows, "hidden", path=tmp_path / "sequential.png")
    threads = [threading.Thread(target=plot.sweep, args=(rows, "hidden"),
                                kwargs={"path": tmp_path / f"thread{i}.png"}) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = (tmp_path / "sequential.png").read_bytes()
    for i in range(3):
        assert (tmp_path / f"thread{i}.png").read_bytes() == expected


def test_no_pyplot_and_install_hint_without_matplotlib():
    from _helpers import run_python

    result = run_python(
        "import sys, mlpcore.plot as p\n"
        "p.learning_curves({'train_loss': [1.0, 0.5]})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    result = run_python("import sys\nsys.modules['matplotlib'] = None\nimport mlpcore.plot\n")
    assert result.returncode != 0
    assert 'ImportError: mlpcore.plot needs matplotlib; install it with: pip install "mlpcore[plot]"' in result.stderr


# --------------------------------------------------------------------------- bad input


def test_bad_common_arguments():
    history = {"train_loss": [1.0]}
    with pytest.raises(TypeError, match=r"learning_curves: title must be a str or None \(got int 5\)"):
        plot.learning_curves(history, title=5)
    with pytest.raises(TypeError, match=r"roc_curve: ax must be a matplotlib Axes or None \(got str 'ax'\)"):
        plot.roc_curve([0, 1], [0.1, 0.9], ax="ax")


def test_bad_history():
    with pytest.raises(TypeError, match=r"learning_curves: history must be an mlpcore.History, a fitted MLPClassifier or MLPRegressor, or a dict"):
        plot.learning_curves([1.0, 0.5])
    with pytest.raises(ValueError, match=r"learning_curves: history has no 'train_loss' \(got keys \['loss'\]\)"):
        plot.learning_curves({"loss": [1.0]})
    with pytest.raises(ValueError, match=r"learning_curves: history.train_loss is empty"):
        plot.learning_curves(mlpcore.History())
    with pytest.raises(ValueError, match=r"learning_curves: history.val_loss must be empty or have one value per "
                                         r"epoch like history.train_loss \(3\) \(got 2\)"):
        plot.learning_curves({"train_loss": [3, 2, 1], "val_loss": [3, 2]})
    with pytest.raises(ValueError, match=r"learning_curves: history.best_epoch must be <= 2 \(got 3\)"):
        plot.learning_curves({"train_loss": [3, 2, 1], "best_epoch": 3})
    with pytest.raises(ValueError, match=r"learning_curves: history.train_loss contains NaN"):
        plot.learning_curves({"train_loss": [3, float("nan")]})
    with pytest.raises(TypeError, match=r"learning_curves: history.stopped_early must be a bool"):
        plot.learning_curves({"train_loss": [3, 2], "stopped_early": "yes"})


def test_bad_roc_and_pr_input():
    y = [0, 1, 1, 0]
    with pytest.raises(ValueError, match=r"roc_curve: y_true and scores must have the same length \(got 4 and 3\)"):
        plot.roc_curve(y, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"precision_recall_curve: y_true and scores\['b'\] must have the same length"):
        plot.precision_recall_curve(y, {"a": [0.1, 0.2, 0.3, 0.4], "b": [0.1]})
    with pytest.raises(ValueError, match=r"roc_curve: scores must be 1-D \(got 3-D"):
        plot.roc_curve(y, np.ones((4, 2, 2)))
    with pytest.raises(ValueError, match=r"roc_curve: scores has 3 columns but y_true holds 2 classes; give classes="):
        plot.roc_curve(y, np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"roc_curve: classes must be 3 distinct labels, one per column of scores "
                                         r"\(got 3, 2 distinct\)"):
        plot.roc_curve(y, np.ones((4, 3)), classes=[0, 1, 1])
    with pytest.raises(ValueError, match=r"precision_recall_curve: y_true holds labels not in classes: \[1\]"):
        plot.precision_recall_curve(y, np.ones((4, 2)), classes=[0, 2])
    with pytest.raises(ValueError, match=r"roc_curve: pos_label is for binary scores"):
        plot.roc_curve(y, np.ones((4, 2)), pos_label=1)
    with pytest.raises(ValueError, match=r"roc_curve: classes names the columns of 2-D scores \(got 1-D scores\)"):
        plot.roc_curve(y, [0.1, 0.2, 0.3, 0.4], classes=[0, 1])
    with pytest.raises(ValueError, match=r"roc_curve: scores is an empty dict"):
        plot.roc_curve(y, {})
    with pytest.raises(TypeError, match=r"roc_curve: the keys of scores must be model names \(str\) \(got int 1\)"):
        plot.roc_curve(y, {1: [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(ValueError, match=r"roc_curve: y_true must contain both the positive and the negative class "
                                         r"to draw a ROC curve \(got 0 positive and 4 negative samples\)"):
        plot.roc_curve([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"precision_recall_curve: y_true has no positive samples"):
        plot.precision_recall_curve([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"roc_curve: y_true must hold 2 classes \(got 3"):
        plot.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])


def test_bad_confusion_matrix_input():
    with pytest.raises(ValueError, match=r"confusion_matrix: y_true and y_pred must have the same length \(got 3 and 2\)"):
        plot.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(TypeError, match=r"confusion_matrix: normalize must be a bool \(got str 'true'\)"):
        plot.confusion_matrix([0, 1], [0, 1], normalize="true")
    with pytest.raises(ValueError, match=r"confusion_matrix: y_pred contains label\(s\) \[2\] that are not in labels"):
        plot.confusion_matrix([0, 1], [0, 2], labels=[0, 1])


def test_bad_decision_boundary_input(spiral):
    model, X, y = spiral
    with pytest.raises(TypeError, match=r"decision_boundary: model must have a predict method \(got str 'model'\)"):
        plot.decision_boundary("model", X, y)
    with pytest.raises(ValueError, match=r"decision_boundary: X must have 2 columns \(features\) to be drawn in the "
                                         r"plane \(got shape \(200, 3\)\)"):
        plot.decision_boundary(model, np.ones((200, 3)), y)
    with pytest.raises(ValueError, match=r"decision_boundary: X must be 2-D \(got 1-D"):
        plot.decision_boundary(model, X[:, 0], y)
    with pytest.raises(ValueError, match=r"decision_boundary: X and y must have the same length \(got 200 and 199\)"):
        plot.decision_boundary(model, X, y[:-1])
    with pytest.raises(ValueError, match=r"decision_boundary: resolution must be >= 2 \(got 1\)"):
        plot.decision_boundary(model, X, y, resolution=1)
    with pytest.raises(TypeError, match=r"decision_boundary: resolution must be an integer \(got float 50.0\)"):
        plot.decision_boundary(model, X, y, resolution=50.0)
    with pytest.raises(TypeError, match=r"decision_boundary: y and the model's predictions must both be numbers or "
                                        r"both be strings"):
        plot.decision_boundary(model, X, np.where(y == 1, "a", "b"), resolution=10)

    class Broken:
        def predict(self, X):
            return np.zeros(3)

    with pytest.raises(ValueError, match=r"decision_boundary: model.predict returned 3 labels for a grid of 100 points"):
        plot.decision_boundary(Broken(), X, y, resolution=10)


def test_bad_sweep_input(rng):
    rows = sweep_rows(rng, [1, 2], seeds=1)
    with pytest.raises(ValueError, match=r"sweep: rows is empty"):
        plot.sweep([], "hidden")
    with pytest.raises(TypeError, match=r"sweep: rows must be a list of dicts \(for a pandas DataFrame pass "
                                        r"df.to_dict\('records'\)\)"):
        plot.sweep({"hidden": 1}, "hidden")
    with pytest.raises(TypeError, match=r"sweep: rows\[1\] must be a dict \(got int 3\)"):
        plot.sweep([rows[0], 3], "hidden")
    with pytest.raises(ValueError, match=r"sweep: rows\[0\] has no key 'width' \(keys: hidden, train_loss"):
        plot.sweep(rows, "width")
    with pytest.raises(TypeError, match=r"sweep: param must be the name \(str\) of the swept parameter"):
        plot.sweep(rows, 1)
    with pytest.raises(ValueError, match=r"sweep: metric must be one of 'error', 'score', 'loss' \(got 'accuracy'\)"):
        plot.sweep(rows, "hidden", metric="accuracy")
    partial = [dict(r) for r in rows]
    partial[1]["test_score"] = None
    with pytest.raises(ValueError, match=r"sweep: test_score is given in 1 of 2 rows \(missing in rows\[1\]\)"):
        plot.sweep(partial, "hidden")
    bad = [dict(r) for r in rows]
    bad[0]["val_score"] = "high"
    with pytest.raises(TypeError, match=r"sweep: rows\[0\]\['val_score'\] must be a number \(got str 'high'\)"):
        plot.sweep(bad, "hidden")
    bad[0]["val_score"] = float("nan")
    with pytest.raises(ValueError, match=r"sweep: rows\[0\]\['val_score'\] must be finite \(got nan\)"):
        plot.sweep(bad, "hidden")
    with pytest.raises(ValueError, match=r"sweep: no row has any of train_loss, val_loss, test_loss"):
        plot.sweep([{"hidden": 1, "seed": 0}], "hidden", metric="loss")
    with pytest.raises(TypeError, match=r"sweep: rows\[0\]\['hidden'\] must be a number, a tuple of layer sizes, "
                                        r"a str, a bool or None \(got list \[1\.5, 2\]\)"):
        plot.sweep([{"hidden": [1.5, 2], "val_score": 0.5}], "hidden")
    with pytest.raises(ValueError, match=r"sweep: log_x=True needs numeric parameter values"):
        plot.sweep([{"act": "relu", "val_score": 0.5}, {"act": "tanh", "val_score": 0.6}], "act", log_x=True)
    with pytest.raises(ValueError, match=r"sweep: log_x=True needs positive parameter values \(0 allowed\)"):
        plot.sweep([{"x": -1, "val_score": 0.5}, {"x": 1, "val_score": 0.6}], "x", log_x=True)
    with pytest.raises(TypeError, match=r"sweep: log_x must be None, True or False \(got str 'yes'\)"):
        plot.sweep(rows, "hidden", log_x="yes")


def test_bad_digits_input():
    with pytest.raises(ValueError, match=r"digits: each row of images must hold 784 = 28×28 pixels for shape=\(28, 28\) "
                                         r"\(got 100\); pass the image shape"):
        plot.digits(np.zeros((2, 100)))
    with pytest.raises(ValueError, match=r"digits: images must have shape \(n, 28, 28\) for shape=\(28, 28\) "
                                         r"\(got \(2, 10, 10\)\)"):
        plot.digits(np.zeros((2, 10, 10)))
    with pytest.raises(ValueError, match=r"digits: images must be 2-D or 3-D \(got 1-D"):
        plot.digits(np.zeros(784))
    with pytest.raises(ValueError, match=r"digits: images and predicted must have the same length \(got 2 and 3\)"):
        plot.digits(np.zeros((2, 784)), predicted=[1, 2, 3])
    with pytest.raises(ValueError, match=r"digits: images and labels must have the same length \(got 2 and 1\)"):
        plot.digits(np.zeros((2, 784)), labels=[1])
    with pytest.raises(ValueError, match=r"digits: n_cols must be >= 1 \(got 0\)"):
        plot.digits(np.zeros((2, 784)), n_cols=0)
    with pytest.raises(TypeError, match=r"digits: shape must be a pair \(rows, columns\) \(got int 28\)"):
        plot.digits(np.zeros((2, 784)), shape=28)
    with pytest.raises(ValueError, match=r"digits: images is empty"):
        plot.digits(np.zeros((0, 784)))


def test_sweep_early_stopping_settings_keep_true_apart_from_patience_one_and_none_is_a_category():
    rows = [{"early_stopping": v, "max_norm": None, "val_score": 0.8 + 0.01 * i, "train_score": 0.9}
            for i, v in enumerate([False, True, 1, 5])]
    ax = plot.sweep(rows, "early_stopping").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["False", "True", "1", "5"]
    np.testing.assert_allclose(line(ax, "validation").get_ydata(), [0.2, 0.19, 0.18, 0.17], rtol=1e-12)
    rows = [{"max_norm": v, "val_loss": 0.5 - 0.1 * i} for i, v in enumerate([None, 1.0, 3.0])]
    ax = plot.sweep(rows, "max_norm", metric="loss").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["None", "1", "3"]


def test_sweep_refuses_to_average_over_a_second_grid_key(rng):
    rows = [{"weight_decay": wd, "dropout": p, "seed": 0, "val_score": float(rng.random())}
            for wd in (0.0, 1e-4) for p in (0.0, 0.2)]
    with pytest.raises(ValueError, match=r"sweep: rows\[0\] and rows\[1\] have the same weight_decay but different "
                                         r"dropout \(0\.0 and 0\.2\); plot one dropout at a time"):
        plot.sweep(rows, "weight_decay")
    ax = plot.sweep([r for r in rows if r["dropout"] == 0.2], "weight_decay").axes[0]
    np.testing.assert_array_equal(line(ax, "validation").get_ydata(), [1 - rows[1]["val_score"], 1 - rows[3]["val_score"]])


@pytest.mark.parametrize("values, scale", [
    ([1e-4, 1e-3, 1e-2], "log"),          # three decades: exactly a factor of 100
    ([0.0, 1e-3, 1e-2, 1e-1], "symlog"),
    ([1e-3, 5e-3, 1e-2], "linear"),        # a factor of 10
    ([1, 2, 3], "linear"),
])
def test_sweep_axis_is_logarithmic_from_a_factor_of_100(values, scale):
    rows = [{"weight_decay": v, "train_loss": 1.0, "val_loss": 1.0 + i} for i, v in enumerate(values)]
    assert plot.sweep(rows, "weight_decay", metric="loss").axes[0].get_xscale() == scale


def test_learning_curves_take_learning_curve_rows(tmp_path):
    """experiments.learning_curve rows draw as the mean over seeds per epoch, with the epoch of
    the lowest mean validation loss marked and the scores in the second panel."""
    from mlpcore import experiments
    from mlpcore.data import make_spiral

    X, y = make_spiral(300, 3, seed=0)
    rows = experiments.learning_curve(X, y, hidden=8, epochs=6, seeds=2, lr=0.1)
    fig = plot.learning_curves(rows, path=tmp_path / "rows.png")
    assert_png(tmp_path / "rows.png", fig)
    loss_ax, score_ax = fig.axes
    mean_val = [np.mean([r["val_loss"] for r in rows if r["epoch"] == e]) for e in range(1, 7)]
    np.testing.assert_allclose(line(loss_ax, "validation").get_ydata(), mean_val)
    assert score_ax.get_title() == "score"
    best = int(np.argmin(mean_val)) + 1
    assert any(np.allclose(ln.get_xdata(), best) for ln in loss_ax.get_lines() if ln.get_linestyle() == "--")
    with pytest.raises(TypeError, match="history rows must be dicts from experiments.learning_curve"):
        plot.learning_curves([{"seed": 0}])
