"""Recording LeRobot datasets: scripted demonstrations in a simulator (`sim`) and teleoperated ones on a real
robot (`real`)."""
