"""`policyzoo export` and `policyzoo push`."""

from __future__ import annotations

from pathlib import Path

import click

LICENSE = click.option(
    "--license",
    "license_",
    default="apache-2.0",
    show_default=True,
    help="License id written into the model card's metadata.",
)


@click.command("export")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--to", "to", type=click.Path(path_type=Path), required=True, help="The folder to write.")
@click.option("--repo_id", default=None, help="Hub repo id to show in the model card's examples.")
@click.option(
    "--overwrite",
    type=click.BOOL,
    default=False,
    show_default=True,
    help="Replace an earlier export in the --to folder.",
)
@LICENSE
def export(checkpoint: Path, to: Path, repo_id: str | None, overwrite: bool, license_: str) -> None:
    """Write CHECKPOINT as a self-contained model folder that LeRobot and policyzoo load.

    CHECKPOINT is a training output dir, one of its checkpoints, or a pretrained_model folder. The folder
    gets weights, config, processors, policyzoo.json, a README.md model card and the loss plot; no
    training state, local paths or tokens, nothing read through a link out of the checkpoint folder;
    other files are listed as left out. It is reloaded and checked before it is kept.
    """
    from policyzoo_runtime.hub.export import export as run_export
    from policyzoo_runtime.hub.push import check_repo_id
    from policyzoo_runtime.writable import check_writable

    if repo_id is not None:
        check_repo_id(repo_id)
    check_writable(to, "--to")
    report = run_export(checkpoint, to, repo_id=repo_id, license=license_, overwrite=overwrite)
    for line in report.lines():
        click.echo(line)


@click.command("push")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--repo_id", required=True, help="USER/NAME on the Hugging Face Hub.")
@click.option("--private", is_flag=True, help="Create the repo as private.")
@click.option("--revision", default=None, help="Branch to upload to (created if needed); default main.")
@click.option("--commit_message", default=None, help="Message of the upload commit.")
@LICENSE
def push(
    checkpoint: Path,
    repo_id: str,
    private: bool,
    revision: str | None,
    commit_message: str | None,
    license_: str,
) -> None:
    """Export CHECKPOINT and upload it to the Hub in one commit (token: HF_TOKEN or huggingface-cli login)."""
    from policyzoo_runtime.hub.push import push as run_push

    result = run_push(
        checkpoint,
        repo_id,
        private=private,
        revision=revision,
        commit_message=commit_message,
        license=license_,
    )
    click.echo(
        f"pushed {len(result.files)} files to https://huggingface.co/{result.repo_id} "
        f"(revision {result.revision}): {result.commit_url}"
    )
    if result.skipped:
        click.echo(f"  left out (not part of a saved policy): {', '.join(result.skipped)}")
