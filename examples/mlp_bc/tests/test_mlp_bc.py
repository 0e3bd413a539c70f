"""policyzoo's contract tests (registration, spec, training, acting, saving and loading), run on mlp_bc."""

from policyzoo_runtime.testing import PolicyContract


class TestMlpBc(PolicyContract):
    policy_type = "mlp_bc"
    lerobot_interop = False  # a plain PyTorch policy: LeRobot cannot load its folders
    bad_settings = [{"chunk_size": 10, "n_action_steps": 11}]
