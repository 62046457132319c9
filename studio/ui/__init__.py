"""The Gradio front end: thin tabs over `studio.engine`."""
