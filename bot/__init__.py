"""Rasa 3.6 components for tsunagu; installed only into .venv-rasa (Python 3.10)."""
