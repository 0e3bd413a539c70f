"""The CLI: listings, plugin commands, and one clear line with exit code 2 for every bad command line."""

import json
import re

import pytest

import policyzoo

BAD_LINES = [
    (["polices", "list"], "no command 'polices'; commands: .* Did you mean 'policies'\\?"),
    (["policies", "lst"], "no command 'lst'.*Did you mean 'list'\\?"),
    (["policies", "show", "actt"], "TYPE=actt: unknown policy type.*Did you mean 'act'\\?"),
    (["policies", "show", "nonsense"], "TYPE=nonsense: unknown policy type; known types: "),
    (["policies", "schema", "tinyy"], "Did you mean 'tiny'\\?"),
    (["policies", "show"], "Missing argument 'POLICY_TYPE'"),
    (["policies", "list", "--jsn"], "No such option .--jsn.. Did you mean .--json."),
    (["robots", "show", "tinybott"], "TYPE=tinybott: unknown robot type.*Did you mean 'tinybot'\\?"),
    (["robots", "shw", "tinybot"], "no command 'shw'.*Did you mean 'show'\\?"),
    (["plugins", "doctr"], "no command 'doctr'.*Did you mean 'doctor'\\?"),
    (["--versio"], "No such option .--versio.. Did you mean .--version."),
    (["bench", "cli", "--repeats", "0"], "Invalid value for '--repeats'"),
    (["bench", "clii"], "no command 'clii'.*Did you mean 'cli'\\?"),
    (["tiny-check"], "--policy.type is required; installed types: .*tiny"),
    (["tiny-check", "--policy.type=tiy"], "--policy.type=tiy: unknown policy type.*Did you mean 'tiny'\\?"),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.chunk_sise=5"],
        "--policy.chunk_sise: tiny has no such setting. Did you mean --policy.chunk_size\\?",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.chunk_size=abc"],
        "--policy.chunk_size=abc: Input should be a valid integer",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.chunk_size=0"],
        "--policy.chunk_size=0: Input should be greater than or equal to 1 \\(tiny\\)",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.n_action_steps=50"],
        "invalid policy settings for tiny: n_action_steps \\(50\\) must be <= chunk_size \\(10\\)",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.device=gpu"],
        "--policy.device=gpu: must be one of auto, cpu, cuda, cuda:N, mps",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.use_amp=maybe"],
        "--policy.use_amp=maybe: Input should be a valid boolean",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.optimizer_lr=-1"],
        "--policy.optimizer_lr=-1: Input should be greater than 0",
    ),
    (
        ["tiny-check", "--policy.type=tiny", "--policy.hidden=1.5"],
        "--policy.hidden=1.5: Input should be a valid integer",
    ),
    (["tiny-check", "--policy.type=tiny", "--stepz=3"], "--stepz: unknown flag. Did you mean --steps\\?"),
    (["tiny-check", "--policy.type=tiny", "--steps=many"], "--steps=many: expected an integer"),
    (["tiny-check", "--policy.type=tiny", "stray"], "unexpected argument 'stray'"),
    (["tiny-check", "--=3"], "--=3: empty flag name"),
]


@pytest.mark.parametrize("argv, message", BAD_LINES, ids=[" ".join(argv) for argv, _ in BAD_LINES])
def test_bad_command_line_gives_one_line_and_exit_2(run_cli, argv, message):
    code, out, err = run_cli(*argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("policyzoo: error: ")
    assert re.search(message, lines[0]), lines[0]


def test_table_is_big_enough():
    assert len(BAD_LINES) >= 25


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"policyzoo, version {policyzoo.__version__}"


def test_policies_list_marks_installed_and_installable(run_cli):
    code, out, _ = run_cli("policies", "list", "--json")
    rows = {row["type"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["tiny"]["installed"] is True and rows["tiny"]["distribution"] == "tinyzoo"
    assert set(rows) >= {"act", "diffusion", "tdmpc", "vqbet", "smolvla", "tiny"}
    for policy_type in ("act", "diffusion", "tdmpc", "vqbet", "smolvla"):
        assert rows[policy_type]["distribution"] == f"policyzoo-{policy_type}"


def test_policies_list_table_shows_pip_line_for_missing_first_party(run_cli, monkeypatch):
    from policyzoo.registry import get_registry

    monkeypatch.delitem(get_registry().policies, "vqbet", raising=False)
    code, out, _ = run_cli("policies", "list")
    [line] = [line for line in out.splitlines() if line.startswith("vqbet ")]
    assert code == 0 and "installable" in line and "pip install policyzoo-vqbet" in line


def test_policies_show_lists_card_and_settings(run_cli):
    code, out, _ = run_cli("policies", "show", "tiny")
    assert code == 0
    assert "tiny: Tiny (tinyzoo 0.0.1)" in out
    assert "chunk_size" in out and "Actions predicted at once." in out
    assert "simulator presets" not in out  # tiny declares none


def test_policies_show_lists_the_presets_a_third_party_card_declares(run_cli):
    code, out, _ = run_cli("policies", "show", "mlp_bc")
    assert code == 0 and "simulator presets" in out
    assert re.search(r"lift\s+cpu\s+3000\s+32\s+50\s+no dropout", out)


def test_policies_schema_is_json_schema_with_constraints(run_cli):
    code, out, _ = run_cli("policies", "schema", "tiny")
    schema = json.loads(out)
    assert code == 0
    assert schema["properties"]["chunk_size"]["minimum"] == 1
    assert schema["additionalProperties"] is False


def test_robots_list_and_show(run_cli):
    code, out, _ = run_cli("robots", "list")
    assert code == 0 and "tinybot" in out
    code, out, _ = run_cli("robots", "show", "tinybot")
    assert code == 0 and "a.pos" in out and "observation.images.top: [3, 24, 32]" in out


def test_plugin_commands_are_added(run_cli):
    code, out, _ = run_cli("tiny-hello")
    assert (code, out.strip()) == (0, "hello from tinyzoo")


def test_shared_flag_parser_validates_through_the_spec(run_cli):
    code, out, _ = run_cli(
        "tiny-check", "--policy.type=tiny", "--policy.chunk_size=20", "--steps", "3", "--policy.use_amp=true"
    )
    assert code == 0
    assert '"chunk_size":20' in out and '"use_amp":true' in out and out.strip().endswith("steps=3")


def test_doctor_is_clean_without_problems(run_cli):
    code, out, _ = run_cli("plugins", "doctor")
    assert code == 0 and out.startswith("ok: ")


def test_plugins_list(run_cli):
    code, out, _ = run_cli("plugins", "list")
    assert code == 0 and "tinyzoo 0.0.1" in out and "policy tiny, robot tinybot" in out


def test_plugin_commands_join_only_the_top_level(run_cli):
    code, out, _ = run_cli("bench", "--help")
    assert code == 0 and "tiny-hello" not in out and "cli" in out
    code, out, _ = run_cli("--help")
    assert code == 0 and "tiny-hello" in out


@pytest.mark.parametrize("spelling", ["--repo_id", "--repo-id"])
def test_one_flag_dialect_underscores_with_dashes_accepted(run_cli, tmp_path, spelling):
    code, _, err = run_cli("push", str(tmp_path), f"{spelling}=bad")
    assert code == 2 and err.startswith("policyzoo: error: --repo_id=bad: not a Hub repo id"), err


def test_every_option_is_spelt_with_underscores():
    import click

    from policyzoo.cli import cli

    def dashed(group: click.Group, ctx: click.Context) -> list[str]:
        found = []
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            found += [
                f"{ctx.command_path} {name} {opt}"
                for param in command.params
                for opt in param.opts + param.secondary_opts
                if "-" in opt.lstrip("-")
            ]
            if isinstance(command, click.Group):
                found += dashed(command, click.Context(command, info_name=name, parent=ctx))
        return found

    assert dashed(cli, click.Context(cli, info_name="policyzoo")) == []


def test_deploy_and_eval_check_their_flags_before_torch_loads():
    import subprocess
    import sys

    code = (
        "import sys\nfrom policyzoo_runtime.cli import deploy, eval\n"
        "from policyzoo_runtime.deploy import DeployConfig\nfrom policyzoo_runtime.evaluation.sim import EvalConfig\n"
        "print(sorted(name for name in ('torch', 'numpy') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
