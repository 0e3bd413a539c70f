"""A tiny plugin for policyzoo's own tests: one policy type, one robot, one extra command."""

import click
from pydantic import Field, model_validator

from policyzoo import (
    CameraSpec,
    Guide,
    JointSpec,
    Mismatch,
    PolicyCard,
    PolicySpec,
    RobotSpec,
    Source,
    hookimpl,
)

POLICYZOO_CONTRACT = 1


class TinySpec(PolicySpec):
    type = "tiny"

    chunk_size: int = Field(10, ge=1, le=1000, description="Actions predicted at once.")
    n_action_steps: int = Field(10, ge=1, description="Actions executed from each chunk.")
    hidden: int = Field(32, ge=1)

    @model_validator(mode="after")
    def _steps_fit_chunk(self) -> "TinySpec":
        if self.n_action_steps > self.chunk_size:
            raise ValueError(
                f"n_action_steps ({self.n_action_steps}) must be <= chunk_size ({self.chunk_size})"
            )
        return self

    def check_features(self, features):
        if len(features.visual) > 1:
            return [
                Mismatch(
                    what="cameras",
                    problem=f"tiny takes one camera, the data has {len(features.visual)}",
                    fix="pick one with --policy.image_key",
                )
            ]
        return []


TINY_CARD = PolicyCard(
    title="Tiny",
    summary="A tiny test policy",
    architecture="none",
    training="none",
    guide=Guide(
        cameras="at most one",
        max_cameras=1,
        best_for=["tests"],
        not_for=["robots"],
        episodes_needed=Source(value="0", source="tests"),
        train_memory_gb=(0, 0),
        train_memory_source="tests",
        inference_memory=Source(value="0", source="tests"),
        latency=Source(value="0", source="tests"),
        parameters=Source(value="0", source="tests"),
    ),
)

TINYBOT = RobotSpec(
    type="tinybot",
    description="a two-joint test robot",
    joints=[
        JointSpec(name="a", unit="deg", lower=-90, upper=90),
        JointSpec(name="b", unit="percent", lower=0, upper=100),
    ],
    cameras=[CameraSpec(name="top", height=24, width=32)],
    fps=10,
)


@hookimpl
def register_policies(register):
    register(TinySpec, TINY_CARD, factory="tinyzoo.model:factory")


@hookimpl
def register_robots(register):
    register(TINYBOT, backends={})


@hookimpl
def register_commands(cli):
    @cli.command("tiny-hello")
    def tiny_hello():
        """Say hello from the tinyzoo plugin."""
        click.echo("hello from tinyzoo")

    from policyzoo.cli.base import dotted_command

    @dotted_command(cli, "tiny-check")
    def tiny_check(flags):
        """Validate --policy.* and --steps with policyzoo's shared flag parser and print the spec."""
        from policyzoo.flags import policy_spec

        spec = policy_spec(flags.section("policy"))
        steps = flags.take("steps", int, default=1)
        flags.finish()
        click.echo(f"{spec.type} {spec.model_dump_json()} steps={steps}")
