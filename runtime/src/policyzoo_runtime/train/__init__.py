"""Training policies on LeRobot datasets: `policyzoo train` and `policyzoo demo`.

Importing this package is light; torch and LeRobot are imported by `policyzoo_runtime.train.loop` and the modules
it uses, only when a run starts.
"""
