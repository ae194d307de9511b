"""The Streamlit console: pages (``ui/pages``), their view modules per page, shared components."""
