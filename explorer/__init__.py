"""Initialization & Scaling Explorer: the engine behind the Streamlit app.

Nothing here imports streamlit but `explorer.ui`, the page that `app.py` routes to (ruff's
banned-API rule enforces it).
"""
