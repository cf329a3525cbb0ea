"""The term's config hands nbgrader's own autograde (its command, formgrader's button)
nbgrader's steps with its Execute replaced by the polled one (primer/kernel_poll.py)."""
from __future__ import annotations

from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from primer.grading.autograde import PolledExecute
from primer.kernel_poll import ShortPolls
from primer.term import course


def test_the_steps_are_nbgraders_with_a_polled_execute(tmp_path):
    (tmp_path / course.CONFIG).write_text(course.config_text({"00_welcome": "2099-01-05 17:00"},
                                                             0.1, 0.5, "per_day"))
    config = PyFileConfigLoader(course.CONFIG, path=str(tmp_path)).load_config()
    steps = [import_item(name) for name in config.Autograde.autograde_preprocessors]
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    assert steps == [PolledExecute if step is Execute else step for step in defaults]
    assert issubclass(PolledExecute, Execute) and issubclass(PolledExecute, ShortPolls)
