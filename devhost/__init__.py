"""Dev-only stand-in for the Azure Functions host: HTTP, queue and timer triggers over local emulators.

Never imported by function_app.py and not deployed; `python -m devhost` runs it.
"""
