"""policyzoo-runtime: train, evaluate, record, deploy and share policyzoo policies on LeRobot 0.6."""
