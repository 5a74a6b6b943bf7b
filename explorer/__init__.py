"""Initialization & Scaling Explorer: the engine behind the Streamlit app.

Nothing here imports streamlit; `app.py` only wires widgets to these functions.
"""
