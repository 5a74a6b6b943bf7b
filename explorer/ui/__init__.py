"""The Streamlit page's parts; the only package besides app.py that imports streamlit."""
