"""Custom actions of the intake bot (rasa-sdk 3.6, run by the action server in .venv-rasa).

`intake` checks the intake form and hands the finished intake to the API, `urgent` gives the
emergency lines, `person` asks for a member of staff. Settings come from TSUNAGU_* variables
(`settings`); the API is reached over HTTP only (`api`).
"""
