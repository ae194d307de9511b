"""The worker's jobs (no Streamlit): each module exposes what ``console.worker`` registers explicitly."""
