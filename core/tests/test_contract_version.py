"""The plugin contract version: a plugin targeting another contract is not loaded, and doctor says why."""

from policyzoo import CONTRACT_VERSION, PolicyCard, PolicySpec, hookimpl
from policyzoo.plugins import get_plugins
from policyzoo.registry import get_registry

CARD = PolicyCard(title="Versioned", summary="a versioned fake", architecture="-")


def versioned_plugin(contract: int | None, policy_type: str) -> object:
    class Spec(PolicySpec):
        type = policy_type

    class Plugin:
        @hookimpl
        def register_policies(self, register):
            register(Spec, CARD, factory="nowhere:factory")

    if contract is not None:
        Plugin.POLICYZOO_CONTRACT = contract
    return Plugin()


def test_contract_is_version_1():
    assert CONTRACT_VERSION == 1


def test_newer_contract_is_not_loaded_and_doctor_says_upgrade_policyzoo(register_plugin, run_cli):
    assert (
        register_plugin(
            versioned_plugin(CONTRACT_VERSION + 1, "from_the_future"), "future", "policyzoo-future"
        )
        is False
    )
    assert "future" not in get_plugins().info
    assert "from_the_future" not in get_registry().policies
    code, out, _ = run_cli("plugins", "doctor")
    assert code == 1
    assert (
        f"problem: future (policyzoo-future): targets plugin contract {CONTRACT_VERSION + 1}, "
        f"this policyzoo speaks {CONTRACT_VERSION}"
    ) in out
    assert "fix: upgrade policyzoo: pip install -U policyzoo" in out


def test_older_contract_is_not_loaded_and_doctor_says_upgrade_the_plugin(register_plugin, run_cli):
    assert register_plugin(versioned_plugin(0, "from_the_past"), "past", "policyzoo-past") is False
    assert "from_the_past" not in get_registry().policies
    code, out, _ = run_cli("plugins", "doctor")
    assert code == 1
    assert "problem: past (policyzoo-past): targets plugin contract 0" in out
    assert "fix: upgrade the plugin: pip install -U policyzoo-past" in out


def test_incompatible_plugin_does_not_hide_the_others(register_plugin, run_cli):
    register_plugin(versioned_plugin(CONTRACT_VERSION + 1, "from_the_future"), "future", "policyzoo-future")
    assert register_plugin(versioned_plugin(CONTRACT_VERSION, "current"), "current", "policyzoo-current")
    assert get_registry().policies["current"].distribution == "policyzoo-current"
    code, out, _ = run_cli("policies", "list")
    assert code == 0 and "current" in out and "from_the_future" not in out


def test_plugin_without_a_contract_loads_and_doctor_notes_it(register_plugin, run_cli):
    assert register_plugin(versioned_plugin(None, "undeclared"), "undeclared", "policyzoo-undeclared")
    assert "undeclared" in get_registry().policies
    _, out, _ = run_cli("plugins", "doctor")
    assert (
        "note: undeclared (policyzoo-undeclared) declares no POLICYZOO_CONTRACT; "
        f"fix: add POLICYZOO_CONTRACT = {CONTRACT_VERSION} to its entry module"
    ) in out


def test_installed_policyzoo_plugins_declare_the_current_contract():
    declared = {
        info.name: info.contract
        for info in get_plugins().info.values()
        if info.distribution.startswith("policyzoo-")
    }
    assert declared, "no policyzoo plugin is installed"
    stale = {name: contract for name, contract in declared.items() if contract != CONTRACT_VERSION}
    assert not stale, f"set POLICYZOO_CONTRACT = {CONTRACT_VERSION} in the entry modules of: {stale}"
