"""Parvis's own HTTP surface, served beside the Streamlit console on one port (console/server.py assembles it):
``/healthz``, ``/readyz``, ``/metrics`` (routes.py), ``/webhooks/...`` (webhooks.py), the security headers and
the request id (middleware.py). Plain Starlette: nothing here imports Streamlit."""
