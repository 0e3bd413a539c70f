"""Why a deploy run stops early; each one holds the last safe target before stopping."""


class PolicyFailure(RuntimeError):
    """The policy raised while predicting a chunk, or returned something that is not a chunk."""


class UnsafeAction(RuntimeError):
    """The policy produced an action that must not reach the robot."""


class StaleObservation(RuntimeError):
    """The robot did not give a fresh, valid observation in time."""


class RobotFailure(RuntimeError):
    """Sending a target to the robot failed."""


STOP_REASONS = {
    PolicyFailure: "policy crashed",
    UnsafeAction: "unsafe action",
    StaleObservation: "stale observation",
    RobotFailure: "robot failed",
}
