"""The guide-claims comparison of `bench all`: supported, contradicted or not testable on this machine."""

from __future__ import annotations

import json

from policyzoo.card import Bench, PolicyCard, PolicyClaim
from policyzoo_bench.claims import CORE_CLAIMS, all_claims, card_claims, compare, load_results, run


def policy_row(
    policy_type: str, chunk_s: float, queued_s: float, steps: int, parameters: float, train_mb: float = 900.0
) -> dict:
    return {
        "type": policy_type,
        "parameters": int(parameters),
        "chunk_p50_s": chunk_s,
        "chunk_p99_s": chunk_s * 1.2,
        "queued_p50_s": queued_s,
        "episode_length": steps,
        "train_peak_mb": train_mb,
        "batch_size": 8,
    }


def results(quick: bool = False) -> dict:
    return {
        "policies": {
            "quick": quick,
            "results": [
                policy_row("act", 0.27, 0.0005, 20, 51.6e6),
                policy_row("diffusion", 2.4, 0.0004, 8, 263e6),
                policy_row("vqbet", 0.03, 0.0003, 5, 38e6),
                policy_row("tdmpc", 0.08, 0.08, 1, 5.6e6),
                policy_row("smolvla", 0.9, 0.0005, 20, 2.1e6),
                {"type": "broken", "error": "RuntimeError: boom"},
            ],
        },
        "deploy": {
            "fps": 30,
            "results": {
                "sync": {"on_time_pct": 80.0, "missed_deadlines": 12},
                "async": {"on_time_pct": 99.9, "missed_deadlines": 0},
            },
        },
        "cli": {"results": {"policyzoo policies list": {"median_s": 0.25, "peak_rss_mb": 36}}},
    }


def by_claim(verdicts):
    return {verdict.claim: verdict for verdict in verdicts}


def test_every_claim_gets_a_verdict_with_a_reason():
    verdicts = compare(results())
    assert [v.claim for v in verdicts] == [c.id for c in all_claims()]
    assert all(v.outcome in ("supported", "contradicted", "cannot test here") and v.why for v in verdicts)


def test_verdicts_follow_the_figures():
    verdicts = by_claim(compare(results()))
    # 20 actions per 0.27 s chunk + 19 queued actions: about 71 Hz even on this CPU
    assert verdicts["act-control-hz"].outcome == "supported"
    assert verdicts["act-control-hz"].local.startswith("71.")
    # 2.4 s per chunk on the CPU cannot say anything about an RTX 3080 claim
    assert verdicts["diffusion-control-hz"].outcome == "cannot test here"
    assert "RTX 3080" in verdicts["diffusion-control-hz"].why
    # a claim with no hardware named, not reached here: contradicted, and it says so
    assert verdicts["tdmpc-hz"].outcome == "contradicted" and verdicts["tdmpc-hz"].local == "12.5 Hz"
    assert verdicts["vqbet-hz"].outcome == "supported"
    assert (
        verdicts["vqbet-vs-diffusion"].outcome == "supported"
        and verdicts["vqbet-vs-diffusion"].local == "80.0x"
    )
    assert verdicts["smolvla-params"].outcome == "cannot test here"  # tiny offline backbone
    for claim in ("act-memory", "diffusion-memory", "smolvla-memory"):
        assert verdicts[claim].outcome == "cannot test here" and "no GPU" in verdicts[claim].why
    assert verdicts["async-inference"].outcome == "supported"
    assert verdicts["cli-startup"].outcome == "supported"


def test_missing_and_quick_results_cannot_test():
    data = results(quick=True)
    data["deploy"]["results"]["async"]["missed_deadlines"] = 30
    verdicts = by_claim(compare(data))
    assert (
        verdicts["act-control-hz"].outcome == "cannot test here"
        and "--quick" in verdicts["act-control-hz"].why
    )
    assert verdicts["async-inference"].outcome == "contradicted"
    empty = by_claim(compare({}))
    assert {v.outcome for v in empty.values()} == {"cannot test here"}
    assert "run `policyzoo bench policies`" in empty["act-control-hz"].why


def test_run_reads_the_out_dir_and_writes_claims_json(tmp_path, capsys):
    for name, content in results().items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    (tmp_path / "train.json").write_text("{not json")
    assert sorted(load_results(tmp_path)) == ["cli", "deploy", "policies"]
    run(tmp_path)
    out = capsys.readouterr().out
    assert "| act | ACT controls the robot at 50 Hz" in out and "guide claims: " in out
    written = json.loads((tmp_path / "claims.json").read_text())
    assert written["benches_found"] == ["cli", "deploy", "policies"]
    assert sum(written["counts"].values()) == len(all_claims())


def test_the_claims_come_from_the_cards_plus_policyzoos_own():
    ids = [claim.id for claim in all_claims()]
    assert {
        "act-control-hz",
        "diffusion-control-hz",
        "tdmpc-hz",
        "vqbet-hz",
        "smolvla-chunk",
        "vqbet-vs-diffusion",
        "smolvla-params",
        "act-memory",
        "vqbet-memory",
        "tdmpc-memory",
        "diffusion-memory",
        "smolvla-memory",
    } <= set(ids)
    assert ids[-len(CORE_CLAIMS) :] == ["async-inference", "cli-startup"]
    assert len(ids) == len(set(ids))


def test_a_third_party_cards_claims_are_checked_like_first_party_ones():
    card = PolicyCard(
        title="Grasp Net",
        summary="-",
        architecture="-",
        bench=Bench(
            claims=(
                PolicyClaim(
                    id="hz", text="GN infers at 100 Hz", kind="inference_hz", value=100, source="GN paper"
                ),
                PolicyClaim(
                    id="vs-act",
                    text="GN is 2x faster than ACT",
                    kind="speedup",
                    value=2,
                    source="GN paper",
                    versus="act",
                ),
                PolicyClaim(
                    id="params", text="GN has 1 M parameters", kind="parameters_m", value=1, source="GN paper"
                ),
            )
        ),
    )
    claims = card_claims({"grasp_net": card})
    assert [c.id for c in claims] == ["grasp_net-hz", "grasp_net-vs-act", "grasp_net-params"]
    data = results()
    data["policies"]["results"].append(policy_row("grasp_net", 0.005, 0.0001, 10, 1.05e6))
    verdicts = by_claim(compare(data, claims=claims))
    assert verdicts["grasp_net-hz"].outcome == "supported" and verdicts["grasp_net-hz"].local == "200.0 Hz"
    assert (
        verdicts["grasp_net-vs-act"].outcome == "supported" and verdicts["grasp_net-vs-act"].local == "54.0x"
    )
    assert verdicts["grasp_net-params"].outcome == "supported"
    assert by_claim(compare({}, claims=claims))["grasp_net-vs-act"].outcome == "cannot test here"


def test_the_async_claim_names_the_policy_the_deploy_bench_drove():
    data = results()
    data["deploy"]["policy"] = "act"
    verdict = by_claim(compare(data))["async-inference"]
    assert verdict.policy == "act" and verdict.why.startswith("act on the simulator at 30 Hz")


def test_claims_are_validated_on_the_card():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="versus"):
        PolicyClaim(id="fast", text="x", kind="speedup", value=5, source="y")
    with pytest.raises(ValidationError, match="low, high"):
        PolicyClaim(id="memory", text="x", kind="train_memory_gb", value=5, source="y")
