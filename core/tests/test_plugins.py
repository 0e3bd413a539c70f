"""Plugin loading: in-process fakes, a real entry point, and every way a plugin can be broken."""

from importlib.metadata import EntryPoint

import pytest

import policyzoo
from policyzoo import PolicyCard, PolicySpec, hookimpl
from policyzoo._clashes import read_preferences
from policyzoo.errors import BadInput
from policyzoo.plugins import Plugins, get_plugins
from policyzoo.registry import get_registry

CARD = PolicyCard(title="Fake", summary="a fake policy", architecture="-")


def fake_plugin(policy_type: str):
    class Spec(PolicySpec):
        type = policy_type
        width: int = 4

    class Plugin:
        POLICYZOO_CONTRACT = 1

        @hookimpl
        def register_policies(self, register):
            register(Spec, CARD, factory="fake.module:factory")

    return Plugin()


class RaisingPlugin:
    @hookimpl
    def register_policies(self, register):
        raise RuntimeError("boom")


class MisspeltPlugin:
    @hookimpl
    def register_policy(self, register):  # the hook is register_policies
        register(None, None, "")


class BadSignaturePlugin:
    @hookimpl
    def register_policies(self, register, extra):
        pass


def test_in_process_plugin_is_listed_and_removed_again(register_plugin):
    assert register_plugin(fake_plugin("fake_a"), "fake-a", "fake-dist")
    entry = get_registry().policy("fake_a")
    assert (entry.distribution, entry.factory) == ("fake-dist", "fake.module:factory")
    assert "fake_a" in [e.type for e in policyzoo.list_policies()]
    assert policyzoo.get_spec("fake_a")().width == 4


def test_fixture_cleaned_up_the_previous_plugin():
    assert "fake_a" not in get_registry().policies


def test_one_type_from_two_distributions_is_a_clash_both_are_named_in(register_plugin):
    register_plugin(fake_plugin("twin"), "first", "dist-one")
    register_plugin(fake_plugin("twin"), "second", "dist-two")
    register_plugin(fake_plugin("single"), "third", "dist-three")
    registry = get_registry()
    assert "twin" not in registry.policies and "single" in registry.policies
    [problem] = [p for p in registry.problems if "twin" in p.problem]
    assert problem.problem == "policy type 'twin' is provided by both dist-one and dist-two"
    assert problem.fix.startswith(
        "uninstall one (pip uninstall dist-one or pip uninstall dist-two) or choose one "
        "with POLICYZOO_PREFER=twin=dist-one or POLICYZOO_PREFER=twin=dist-two"
    )
    with pytest.raises(
        BadInput, match=r"^--policy.type=twin: policy type 'twin' is provided by both dist-one "
    ):
        policyzoo.get_spec("twin")


@pytest.mark.parametrize("preferred", ["dist-one", "Dist_Two"])
def test_a_preference_picks_one_of_the_clashing_distributions(register_plugin, monkeypatch, preferred):
    monkeypatch.setattr(
        get_plugins(), "preferences", read_preferences({"POLICYZOO_PREFER": f"twin={preferred}"})
    )
    register_plugin(fake_plugin("twin"), "first", "dist-one")
    register_plugin(fake_plugin("twin"), "second", "dist-two")
    registry = get_registry()
    winner, loser = ("dist-one", "dist-two") if preferred == "dist-one" else ("dist-two", "dist-one")
    assert policyzoo.get_spec("twin") is registry.policies["twin"].spec
    assert registry.policies["twin"].distribution == winner
    assert registry.notes[-1] == (
        f"policy type 'twin' of {loser} is ignored by preference (POLICYZOO_PREFER=twin={winner})"
    )
    assert not [p for p in registry.problems if "twin" in p.problem]


def test_one_type_twice_from_one_distribution_keeps_the_first(register_plugin):
    register_plugin(fake_plugin("twin"), "first", "dist-one")
    register_plugin(fake_plugin("twin"), "again", "dist-one")
    registry = get_registry()
    assert registry.policies["twin"].distribution == "dist-one"
    [problem] = [p for p in registry.problems if "twin" in p.problem]
    assert problem.problem == "policy type 'twin' is registered twice by dist-one; kept the first"


def test_a_hook_calling_sys_exit_or_printing_is_recorded(register_plugin, capsys):
    class Rude:
        @hookimpl
        def register_policies(self, register):
            print("rude output")
            raise SystemExit(4)

    register_plugin(Rude(), "rude", "rude-dist")
    [problem] = [p for p in get_registry().problems if p.plugin == "rude"]
    assert problem.problem == "hook register_policies raised SystemExit: 4"
    out, err = capsys.readouterr()
    assert out == "" and "rude output" in err


def test_exception_in_a_hook_is_recorded_and_other_plugins_keep_working(register_plugin):
    register_plugin(RaisingPlugin(), "raiser", "raising-dist")
    register_plugin(fake_plugin("survivor"), "ok", "ok-dist")
    registry = get_registry()
    assert "survivor" in registry.policies
    [problem] = [p for p in registry.problems if p.plugin == "raiser"]
    assert "register_policies raised RuntimeError: boom" in problem.problem


def test_misspelt_hook_is_rejected_with_the_right_name(register_plugin):
    assert not register_plugin(MisspeltPlugin(), "misspelt", "typo-dist")
    [problem] = [p for p in get_registry().problems if p.plugin == "misspelt"]
    assert "register_policy" in problem.problem
    assert problem.fix == "rename 'register_policy' to 'register_policies'"


def test_hook_with_a_wrong_signature_is_rejected(register_plugin):
    assert not register_plugin(BadSignaturePlugin(), "badsig", "sig-dist")
    [problem] = [p for p in get_registry().problems if p.plugin == "badsig"]
    assert "extra" in problem.problem


def test_import_error_at_load_is_recorded(monkeypatch):
    broken = EntryPoint(name="broken", value="policyzoo_no_such_module_xyz", group="policyzoo")
    monkeypatch.setattr("policyzoo.plugins.entry_points", lambda group: [broken])
    plugins = Plugins()
    plugins.load_entry_points()
    [problem] = plugins.problems
    assert "failed to import policyzoo_no_such_module_xyz: ModuleNotFoundError" in problem.problem
    assert plugins.info == {}


def test_registering_something_that_is_not_a_spec_is_a_problem(register_plugin):
    class WrongSpec:
        @hookimpl
        def register_policies(self, register):
            register(dict, CARD, factory="x:y")

    register_plugin(WrongSpec(), "wrongspec", "wrong-dist")
    [problem] = [p for p in get_registry().problems if p.plugin == "wrongspec"]
    assert "PolicySpec subclass" in problem.problem


def test_the_real_tiny_plugin_is_found_through_its_entry_point():
    from policyzoo.plugins import get_plugins

    info = get_plugins().info["tinyzoo"]
    assert (info.distribution, info.version, info.contract) == ("tinyzoo", "0.0.1", 1)
    entry = get_registry().policy("tiny")
    assert entry.distribution == "tinyzoo" and entry.factory == "tinyzoo.model:factory"
    assert "tinybot" in get_registry().robots


def test_known_but_missing_type_says_what_to_install(monkeypatch):
    registry = get_registry()
    monkeypatch.delitem(registry.policies, "diffusion", raising=False)
    with pytest.raises(BadInput, match=r"pip install policyzoo-diffusion"):
        policyzoo.get_spec("diffusion")


def test_unknown_type_suggests_a_close_one():
    with pytest.raises(BadInput, match=r"Did you mean 'tiny'\?"):
        policyzoo.get_spec("tinyy")


def test_every_hook_failure_is_recorded_warned_about_once_and_skipped(register_plugin, capsys):
    from policyzoo.plugins import get_plugins

    class Flaky:
        @hookimpl
        def model_card_sections(self, meta):
            raise ValueError("no card today")

        @hookimpl
        def sample_dataset(self, task):
            raise RuntimeError("no sample either")

    class Steady:
        @hookimpl
        def model_card_sections(self, meta):
            return "## steady"

    register_plugin(Flaky(), "flaky", "flaky-dist")
    register_plugin(Steady(), "steady", "steady-dist")
    plugins = get_plugins()
    assert plugins.call("model_card_sections", meta={}) == ["## steady"]
    assert plugins.call("model_card_sections", meta={}) == ["## steady"]
    plugins.first_result("sample_dataset", task="juggle")  # a failing firstresult hook is survived as well
    err = capsys.readouterr().err
    assert err.count("warning: plugin 'flaky' failed in model_card_sections: ValueError: no card today") == 1
    assert "warning: plugin 'flaky' failed in sample_dataset: RuntimeError: no sample either" in err
    recorded = [p.problem for p in plugins.problems if p.plugin == "flaky"]
    assert recorded == [
        "hook model_card_sections raised ValueError: no card today",
        "hook sample_dataset raised RuntimeError: no sample either",
    ]


def card_plugin(text: str, **opts):
    """A plugin whose model_card_sections returns `text`, marked with hookimpl options `opts`."""

    class Plugin:
        @hookimpl(**opts)
        def model_card_sections(self, meta):
            return text

    return Plugin()


def plugins_with(*plugins: object) -> Plugins:
    """A plugin set of just `plugins` (no entry points), registered in this order as p0, p1, ..."""
    made = Plugins()
    for number, plugin in enumerate(plugins):
        assert made.add(plugin, f"p{number}")
    return made


def test_tryfirst_runs_first_and_trylast_last_whatever_the_registration_order():
    plugins = plugins_with(
        card_plugin("early"),
        card_plugin("first", tryfirst=True),
        card_plugin("last", trylast=True),
        card_plugin("late"),
    )
    assert plugins.call("model_card_sections", meta={}) == ["first", "late", "early", "last"]


class Wrapper:
    @hookimpl(wrapper=True)
    def model_card_sections(self, meta):
        results = yield
        return [*results, f"seen: {', '.join(results)}"]


class OldStyleWrapper:
    @hookimpl(hookwrapper=True)
    def model_card_sections(self, meta):
        outcome = yield
        outcome.force_result([text.upper() for text in outcome.get_result()])


def test_a_wrapper_runs_around_the_others_and_can_change_their_results():
    plugins = plugins_with(Wrapper(), card_plugin("a"), card_plugin("b"))
    assert plugins.call("model_card_sections", meta={}) == ["b", "a", "seen: b, a"]


def test_an_old_style_hookwrapper_runs_around_the_others_and_can_force_a_result():
    plugins = plugins_with(card_plugin("a"), OldStyleWrapper(), Wrapper())
    assert plugins.call("model_card_sections", meta={}) == ["A", "seen: A"]  # the later wrapper is outermost


class RaisingCard:
    @hookimpl
    def model_card_sections(self, meta):
        raise RuntimeError("boom")


def test_a_failing_implementation_is_left_out_of_what_a_wrapper_sees(capsys):
    plugins = plugins_with(Wrapper(), RaisingCard(), card_plugin("ok"))
    assert plugins.call("model_card_sections", meta={}) == ["ok", "seen: ok"]
    [problem] = plugins.problems
    assert (problem.plugin, problem.problem) == ("p1", "hook model_card_sections raised RuntimeError: boom")
    assert "warning: plugin 'p1' failed in model_card_sections: RuntimeError: boom" in capsys.readouterr().err


def test_a_failing_wrapper_is_recorded_and_the_results_pass_through_it(capsys):
    class FailsBefore:
        @hookimpl(wrapper=True)
        def model_card_sections(self, meta):
            raise SystemExit("before")
            yield  # never reached; pluggy takes only generators for wrappers

    class FailsAfter:
        @hookimpl(hookwrapper=True)
        def model_card_sections(self, meta):
            print("wrapper output")
            yield
            raise ValueError("after")

    plugins = plugins_with(FailsBefore(), card_plugin("a"), FailsAfter(), Wrapper())
    assert plugins.call("model_card_sections", meta={}) == ["a", "seen: a"]
    assert [(p.plugin, p.problem) for p in plugins.problems] == [
        ("p0", "hook model_card_sections raised SystemExit: before"),
        ("p2", "hook model_card_sections raised ValueError: after"),
    ]
    out, err = capsys.readouterr()
    assert out == "" and "wrapper output" in err


def test_first_result_asks_tryfirst_first_and_a_wrapper_sees_the_one_answer():
    def sampler(answer, **opts):
        class Plugin:
            @hookimpl(**opts)
            def sample_dataset(self, task):
                return answer

        return Plugin()

    class Relabel:
        @hookimpl(hookwrapper=True)
        def sample_dataset(self, task):
            outcome = yield
            repo_id, root = outcome.get_result()
            outcome.force_result((f"{repo_id}-for-{task}", root))

    plugins = plugins_with(sampler(("first", "/a"), tryfirst=True), Relabel(), sampler(("late", "/b")))
    assert plugins.first_result("sample_dataset", task="lift") == ("first-for-lift", "/a")


def test_tracing_hook_calls_writes_to_stderr_only(monkeypatch, capsys):
    monkeypatch.setenv("POLICYZOO_TRACE_PLUGINS", "1")
    plugins = plugins_with(card_plugin("a"), card_plugin("b", tryfirst=True))
    plugins.call("model_card_sections", meta={})
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "policyzoo: hook model_card_sections calls p1, p0",
        "policyzoo: hook model_card_sections returned ['b', 'a']",
    ]
