"""Sharing checkpoints: `export` (a self-contained, checked model folder), `model_card`, `push` to the Hub.

Importing this package is light; torch, LeRobot and huggingface_hub are imported when a function runs.
"""
