"""The course command: one `primer`, a subcommand per task, each with --help and an
example, one set of exit statuses, one error style (what is wrong, then the fix)."""
import subprocess
import sys

import pytest

from primer import cli, doctor, exits


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "primer", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_help_lists_every_command_with_an_example_and_the_exit_statuses(capsys):
    assert cli.main(["--help"]) == exits.OK
    out = capsys.readouterr().out
    for name, command in cli.COMMANDS.items():
        assert name in out and command.example in out
    for status in ("0", "1", "2", "3", "4", "130"):
        assert f"\n  {status:>3}  " in out or f"\n    {status}  " in out
    assert cli.main([]) == exits.USAGE


def test_an_unknown_command_says_what_is_wrong_and_the_fix(capsys):
    assert cli.main(["chek", "x.ipynb"]) == exits.USAGE
    err = capsys.readouterr().err
    assert "there is no command 'chek'" in err and "fix:" in err and "did you mean check" in err


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_has_help_with_an_example(name, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([name, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert f"primer {name}" in out and "example" in out.lower(), out[:400]


def test_a_course_error_becomes_its_exit_status_and_message(monkeypatch, capsys):
    def fail(argv):
        raise exits.CourseError("the folder x is a file", "rename it")

    monkeypatch.setattr(doctor, "main", fail)
    assert cli.main(["doctor"]) == exits.USAGE
    err = capsys.readouterr().err
    assert "primer doctor: the folder x is a file\n  fix: rename it" in err


def test_the_console_command_runs_as_a_module():
    result = run("--help")
    assert result.returncode == 0 and "primer COMMAND" in result.stdout


def test_doctor_reports_each_check_and_a_problem_with_its_fix(tmp_path, monkeypatch, capsys):
    assert doctor.main(["--folder", str(tmp_path / "work")]) in (exits.OK, exits.FAILED)
    out = capsys.readouterr().out
    for piece in ("Python", "numpy", "nnlib imports", "GPU:", "free on the disk", "problem(s) found"):
        assert piece in out
    (tmp_path / "file").write_text("x")
    finding = doctor.writable(tmp_path / "file")
    assert finding.level == "PROBLEM" and "not a folder" in finding.what and finding.fix
    old = doctor.python_version((3, 8, 1))
    assert old.level == "PROBLEM" and "3.10" in old.what and old.fix
    monkeypatch.setattr(doctor, "REQUIRED", ("surely-not-installed-package",))
    missing = doctor.packages(doctor.REQUIRED)
    assert missing[0].level == "PROBLEM" and "pip install" in missing[0].fix
