"""Dashboard building blocks: `queries` (SQL), `charts` (plotly), `fmt` (display), `cache`/`ui`
(the only modules that touch Streamlit)."""
